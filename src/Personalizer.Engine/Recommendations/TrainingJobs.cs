using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;

namespace Personalizer.Engine.Recommendations;

public enum TrainingJobStatus
{
    Running,
    Succeeded,
    /// <summary>The site has nothing to learn from yet.</summary>
    NothingToLearn,
    Failed,
}

/// <summary>One training run asked for through the API, followed by its id until the model is published.</summary>
public sealed class TrainingJob
{
    public required string Id { get; init; }
    public required string Site { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public TrainingJobStatus Status { get; internal set; }
    public DateTimeOffset? FinishedAt { get; internal set; }
    /// <summary>The published model's version once the job succeeded.</summary>
    public string? Version { get; internal set; }
    public string? Error { get; internal set; }
    /// <summary>Completes when the job ends, with the model (null when there was nothing to learn).</summary>
    public required Task<RecommendationModel?> Completion { get; init; }
}

/// <summary>
/// Training runs started on demand, each in the background under the host's lifetime: asking again
/// while a site's job runs returns that job. Jobs are held by the node that runs them (the newest
/// 100), which is the node that answered the request.
/// </summary>
public sealed class TrainingJobs(ModelTraining training, TimeProvider time, IHostApplicationLifetime lifetime)
{
    private const int Kept = 100;
    private readonly ConcurrentDictionary<string, TrainingJob> _jobs = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();
    private readonly Lock _gate = new();

    public TrainingJob Start(string site)
    {
        lock (_gate)
        {
            foreach (var existing in _jobs.Values)
            {
                if (existing.Site == site && existing.Status == TrainingJobStatus.Running)
                {
                    return existing;
                }
            }
            var id = "train-" + Guid.NewGuid().ToString("N")[..16];
            var completion = new TaskCompletionSource<RecommendationModel?>(TaskCreationOptions.RunContinuationsAsynchronously);
            var job = new TrainingJob { Id = id, Site = site, StartedAt = time.GetUtcNow(), Completion = completion.Task };
            _jobs[id] = job;
            _order.Enqueue(id);
            while (_order.Count > Kept && _order.TryDequeue(out var old))
            {
                _jobs.TryRemove(old, out _);
            }
            _ = RunAsync(job, completion);
            return job;
        }
    }

    public TrainingJob? Find(string site, string id) =>
        _jobs.TryGetValue(id, out var job) && job.Site == site ? job : null;

    private async Task RunAsync(TrainingJob job, TaskCompletionSource<RecommendationModel?> completion)
    {
        await Task.Yield();
        try
        {
            var model = await training.TrainAsync(job.Site, lifetime.ApplicationStopping).ConfigureAwait(false);
            job.Version = model?.Version;
            job.Status = model is null ? TrainingJobStatus.NothingToLearn : TrainingJobStatus.Succeeded;
            job.FinishedAt = time.GetUtcNow();
            completion.SetResult(model);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            job.Error = e is OperationCanceledException ? "the service stopped before the training ended" : e.Message;
            job.Status = TrainingJobStatus.Failed;
            job.FinishedAt = time.GetUtcNow();
            completion.SetException(e);
        }
    }
}
