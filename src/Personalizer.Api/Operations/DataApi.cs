using Personalizer.Api.Http;
using Personalizer.Engine.Archive;

namespace Personalizer.Api.Operations;

/// <summary><c>POST /v1/data/compact</c>: erasure now — no byte of an erased visitor left in any file of the data folder.</summary>
public static class DataApi
{
    public static IEndpointRouteBuilder MapDataApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/data/compact", async (DataCompaction compaction, CancellationToken ct) => TypedResults.Ok(await compaction.RunAsync(ct)))
            .WithTags("Operations")
            .RequireAuthorization(Policies.Admin)
            .Produces<CompactionReport>()
            .WithSummary("Compact the node's data now: archive files holding erased visitors rewritten, the profile store's log rewritten, the event log truncated (takes seconds; writes and decides go on).");
        return app;
    }
}
