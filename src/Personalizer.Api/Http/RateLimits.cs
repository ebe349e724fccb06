using System.Globalization;
using System.Threading.RateLimiting;
using Personalizer.Engine.Sites;

namespace Personalizer.Api.Http;

/// <summary>
/// ASP.NET Core's rate limiter over the API: a token bucket per key with the limit its site sets
/// (<c>Personalizer:Sites:ID:RateLimit</c>), and one per client address for requests without a valid key
/// (key guessing). Past it: 429 problem details with Retry-After. Pages, the snippet and health checks
/// are not limited.
/// </summary>
public static class RateLimits
{
    /// <summary>Requests without a valid key, per client address.</summary>
    public const int AnonymousPerSecond = 20;

    public static IServiceCollection AddKeyRateLimits(this IServiceCollection services) => services.AddRateLimiter(options =>
    {
        options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(Partition);
        options.OnRejected = async (context, ct) =>
        {
            var retry = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)) : 1;
            var http = context.HttpContext;
            http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            http.Response.Headers.RetryAfter = retry.ToString(CultureInfo.InvariantCulture);
            await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = http,
                ProblemDetails =
                {
                    Status = StatusCodes.Status429TooManyRequests,
                    Title = "Too many requests",
                    Detail = $"This key is past its site's rate limit; try again in {retry} s.",
                },
            });
        };
    });

    private static RateLimitPartition<string> Partition(HttpContext context)
    {
        if (!context.Request.Path.StartsWithSegments("/v1"))
        {
            return RateLimitPartition.GetNoLimiter("");
        }
        if (context.Items[typeof(ApiKeyIdentity)] is ApiKeyIdentity key)
        {
            var limit = context.RequestServices.GetRequiredService<ApiKeyRegistry>().RateLimit(key.Site);
            return limit.PerSecond == 0
                ? RateLimitPartition.GetNoLimiter("key:" + key.Fingerprint)
                : RateLimitPartition.GetTokenBucketLimiter("key:" + key.Fingerprint, _ => Bucket(limit.PerSecond, limit.Burst));
        }
        var address = context.Connection.RemoteIpAddress?.ToString() ?? "";
        return RateLimitPartition.GetTokenBucketLimiter("address:" + address, _ => Bucket(AnonymousPerSecond, AnonymousPerSecond * 2));
    }

    private static TokenBucketRateLimiterOptions Bucket(int perSecond, int burst) => new()
    {
        TokenLimit = Math.Max(1, burst == 0 ? perSecond : burst),
        TokensPerPeriod = perSecond,
        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
        QueueLimit = 0,
        AutoReplenishment = true,
    };
}
