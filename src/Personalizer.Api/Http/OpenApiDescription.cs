using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Personalizer.Api.Http;

/// <summary>
/// What the OpenAPI document says beyond what the endpoints declare: the <c>X-Api-Key</c> scheme on every
/// operation that needs a key (and <c>security: []</c> on those that do not), the problem-details answers
/// every operation can give (400, 401, 403, 404, 413, 429, 503, by what the operation takes), 204 for
/// deletes, an operation id for each, and a description of each tag. Linted by <c>@redocly/cli</c> in the
/// test command.
/// </summary>
public static class OpenApiDescription
{
    private const string Scheme = "ApiKey";
    private const string Problem = "ProblemDetails";

    private static readonly Dictionary<string, string> Tags = new(StringComparer.Ordinal)
    {
        ["Decisions"] = "What to show in each slot of a page, for one visitor.",
        ["Events"] = "What visitors do: batches from the storefront, and history imports.",
        ["Profiles"] = "The single customer view, its export and its erasure.",
        ["Preferences"] = "A visitor's own choices: interests, exclusions, personalization and tracking consent.",
        ["Catalog"] = "The items that can be recommended.",
        ["Slots"] = "The places of a page that are personalized, with their variants.",
        ["Rules"] = "Merchandisers' if-then rules per slot.",
        ["Segments"] = "Named audiences used in rules and experiments.",
        ["Configuration"] = "Versions of a site's configuration: history and rollback.",
        ["Experiments"] = "A/B/n experiments and their results.",
        ["Reports"] = "Slot performance from counters.",
        ["Recommendations"] = "Lists for apps: personalized, similar, trending and more.",
        ["Models"] = "Recommendation models: versions, figures and training.",
        ["Customers"] = "Customer intelligence: RFM, lifecycle and lifetime value.",
        ["Triggers"] = "Messages sent by webhook when a visitor does (or does not do) something.",
        ["Operations"] = "Running the service: data compaction.",
        ["Sites"] = "Sites and their keys at runtime, for an operator key.",
        ["Snippet"] = "The storefront snippet.",
    };

    public static IServiceCollection AddOpenApiDescription(this IServiceCollection services) => services.AddOpenApi(options =>
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Description = "Real-time personalization and recommendations. Errors are RFC 9457 problem details naming the field.";
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[Scheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = ApiKeyAuthenticationHandler.HeaderName,
                Description = "A site key (decide, events, preferences) or an admin key (everything in its site).",
            };
            document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
            document.Components.Schemas[Problem] = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Description = "RFC 9457 problem details; a validation problem names each field in errors.",
                Properties = new Dictionary<string, IOpenApiSchema>
                {
                    ["type"] = new OpenApiSchema { Type = JsonSchemaType.String },
                    ["title"] = new OpenApiSchema { Type = JsonSchemaType.String },
                    ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer },
                    ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String },
                    ["errors"] = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object,
                        AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
                    },
                },
            };
            foreach (var server in document.Servers ?? [])
            {
                server.Url = server.Url?.TrimEnd('/');
            }
            foreach (var tag in document.Tags ?? new HashSet<OpenApiTag>())
            {
                if (tag.Name is { } name && Tags.TryGetValue(name, out var description))
                {
                    tag.Description = description;
                }
            }
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            var description = context.Description;
            var method = description.HttpMethod ?? "GET";
            var path = "/" + (description.RelativePath ?? "").TrimEnd('/');
            operation.OperationId ??= OperationId(method, path);
            var metadata = description.ActionDescriptor.EndpointMetadata;
            var needsKey = metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any();
            operation.Security = needsKey
                ? [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(Scheme, context.Document)] = [] }]
                : [];
            operation.Responses ??= new OpenApiResponses();
            if (method == "DELETE" && operation.Responses.TryGetValue("200", out var ok) && ok.Content is not { Count: > 0 })
            {
                operation.Responses.Remove("200");
                operation.Responses["204"] = new OpenApiResponse { Description = "Done; no body." };
            }
            var takesInput = description.ParameterDescriptions.Count > 0 || operation.RequestBody is not null;
            if (takesInput)
            {
                AddProblem(operation, context, "400", "The request is not valid: the problem names each field that is wrong.");
            }
            if (needsKey)
            {
                AddProblem(operation, context, "401", "No key, or a key that is not known.");
                AddProblem(operation, context, "403", "The key may not do this (a site key where an admin key is needed).");
                AddProblem(operation, context, "429", "The key is past its site's rate; Retry-After says when to come back.");
            }
            if (path.Contains('{', StringComparison.Ordinal))
            {
                AddProblem(operation, context, "404", "Not found in this site.");
            }
            if (operation.RequestBody is not null)
            {
                AddProblem(operation, context, "413", "The body is larger than this operation takes.");
            }
            if (method is "POST" or "PUT" or "DELETE")
            {
                AddProblem(operation, context, "503", "Writes are not possible right now (starting, a full disk, the store away); Retry-After says when to try again.");
            }
            return Task.CompletedTask;
        });
    });

    private static void AddProblem(OpenApiOperation operation, OpenApiOperationTransformerContext context, string status, string text)
    {
        if (operation.Responses!.ContainsKey(status))
        {
            return;
        }
        operation.Responses[status] = new OpenApiResponse
        {
            Description = text,
            Content = new Dictionary<string, OpenApiMediaType>
            {
                ["application/problem+json"] = new OpenApiMediaType { Schema = new OpenApiSchemaReference(Problem, context.Document) },
            },
        };
    }

    /// <summary><c>GET /v1/profiles/{visitorId}/export</c> → <c>getV1ProfilesVisitorIdExport</c>.</summary>
    private static string OperationId(string method, string path)
    {
        var id = new System.Text.StringBuilder(method.ToLowerInvariant());
        foreach (var part in path.Split('/', '.', '-', '{', '}'))
        {
            if (part.Length > 0)
            {
                id.Append(char.ToUpperInvariant(part[0])).Append(part.AsSpan(1));
            }
        }
        return id.ToString();
    }
}
