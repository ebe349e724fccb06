using Microsoft.AspNetCore.Authentication;
using Personalizer.Engine.Sites;

namespace Personalizer.Api.Http;

public static class HostingExtensions
{
    public static IServiceCollection AddApiKeyAuthentication(this IServiceCollection services)
    {
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Site, p => p.RequireRole(Policies.Site, Policies.Admin))
            .AddPolicy(Policies.Admin, p => p.RequireRole(Policies.Admin))
            .AddPolicy(Policies.Operator, p => p.RequireRole(Policies.Operator));
        return services;
    }

    /// <summary>Browsers on the storefront origins of any configured site may call the API (keys still decide what they see).</summary>
    public static IServiceCollection AddStorefrontCors(this IServiceCollection services)
    {
        services.AddCors();
        services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>().Configure<ApiKeyRegistry>((cors, keys) =>
            cors.AddDefaultPolicy(p => p
                .SetIsOriginAllowed(origin => keys.Origins.Contains(origin.TrimEnd('/')))
                .WithHeaders(ApiKeyAuthenticationHandler.HeaderName, "Content-Type", "X-Visitor-Id")
                .WithMethods("GET", "POST", "PUT")
                .WithExposedHeaders("Retry-After") // the snippet waits as long as a 429 asks
                .SetPreflightMaxAge(TimeSpan.FromHours(1))));
        return services;
    }
}
