using Personalizer.Engine.Archive;
using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Personalizer.Engine.Catalog;
using Personalizer.Engine.Counters;
using Personalizer.Engine.Configuration;
using Personalizer.Engine.Crm;
using Personalizer.Engine.Decisions;
using Personalizer.Engine.Demo;
using Personalizer.Engine.Events;
using Personalizer.Engine.Experiments;
using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Profiles;
using Personalizer.Engine.Recommendations;
using Personalizer.Engine.Sites;
using Personalizer.Engine.Storage.Faster;
using Personalizer.Engine.Storage.Redis;
using Personalizer.Engine.Strategies;
using Personalizer.Engine.Triggers;
using Personalizer.Engine.Validation;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace Personalizer.Engine;

public static class PersonalizerServiceCollectionExtensions
{
    /// <summary>
    /// Adds the engine. Bind <see cref="PersonalizerOptions"/> yourself (e.g. from the <c>Personalizer</c>
    /// section); every registration is a <c>TryAdd</c>, so an application can replace any part.
    /// </summary>
    public static PersonalizerBuilder AddPersonalizer(this IServiceCollection services, Action<PersonalizerOptions>? configure = null)
    {
        var options = services.AddOptions<PersonalizerOptions>().ValidateDataAnnotations().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PersonalizerOptions>, NestedOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<PersonalizerOptions>>().Value);
        // Each feature takes its own settings, not the whole tree.
        services.TryAddSingleton(sp => sp.GetRequiredService<PersonalizerOptions>().Profiles);
        services.TryAddSingleton(sp => sp.GetRequiredService<PersonalizerOptions>().Limits);
        services.TryAddSingleton(sp => sp.GetRequiredService<PersonalizerOptions>().Faster);
        services.TryAddSingleton(sp => sp.GetRequiredService<PersonalizerOptions>().Redis);
        services.TryAddSingleton<IReadOnlyDictionary<string, SiteOptions>>(sp => sp.GetRequiredService<PersonalizerOptions>().Sites);
        services.TryAddSingleton(sp => new DecideOptions(TimeSpan.FromMilliseconds(sp.GetRequiredService<PersonalizerOptions>().DecideBudgetMs)));
        services.TryAddSingleton(sp =>
        {
            var o = sp.GetRequiredService<PersonalizerOptions>();
            return new LedgerOptions
            {
                DataPath = o.DataPath,
                CheckpointIntervalSeconds = o.CheckpointIntervalSeconds,
                CheckpointOnShutdown = o.CheckpointOnShutdown,
                IndexCheckpointEvery = o.IndexCheckpointEvery,
            };
        });
        services.TryAddSingleton(sp =>
        {
            var o = sp.GetRequiredService<PersonalizerOptions>();
            return o.Store == StoreKind.Redis ? new LogNode(NodeIdentity.Resolve(o.DataPath, o.NodeId)) : LogNode.OnlyWriter;
        });

        services.TryAddSingleton(sp => new ApiKeyRegistry(sp.GetRequiredService<IReadOnlyDictionary<string, SiteOptions>>(), sp.GetRequiredService<PersonalizerOptions>().OperatorKeys));
        services.TryAddSingleton<SiteService>();
        services.TryAddSingleton<CatalogStore>();
        services.TryAddSingleton<ConfigurationStore>();
        services.TryAddSingleton(sp => new TrendingTracker(
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ProfileOptions>().TrendingHalfLifeHours));
        services.TryAddSingleton<IEventLog>(sp =>
        {
            var o = sp.GetRequiredService<PersonalizerOptions>();
            DurableFiles.CheckWritable(o.DataPath);
            return new FasterEventLog(Path.Combine(o.DataPath, "events"), o.Faster.EventLogMemoryMb, segmentMb: o.Faster.SegmentMb);
        });

        // The log's projections: each feature registers its records, handlers and checkpoint parts.
        services.TryAddSingleton<ProfileProjection>();
        services.TryAddSingleton<CounterAttribution>();
        services.TryAddSingleton<TrendingProjection>();
        services.TryAddSingleton<TriggerScheduler>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IProjection, ProfileProjection>(sp => sp.GetRequiredService<ProfileProjection>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IProjection, CatalogProjection>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IProjection, ConfigurationProjection>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IProjection, SiteProjection>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IProjection, TrendingProjection>(sp => sp.GetRequiredService<TrendingProjection>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IProjection, TriggerScheduler>(sp => sp.GetRequiredService<TriggerScheduler>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IProjection, ModelRecords>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ProfileObserver, CounterAttribution>(sp => sp.GetRequiredService<CounterAttribution>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ProfileObserver, TrendingProjection>(sp => sp.GetRequiredService<TrendingProjection>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ProfileObserver, TriggerScheduler>(sp => sp.GetRequiredService<TriggerScheduler>()));
        services.TryAddSingleton<ProjectionRegistry>();
        services.TryAddSingleton(sp => sp.GetRequiredService<ProjectionRegistry>().Types);
        services.TryAddSingleton<ICheckpointStore>(sp => sp.GetRequiredService<IProfileStore>());
        services.TryAddSingleton<Ledger>();

        services.TryAddSingleton<RedisConnection>(sp => new RedisConnection(sp.GetRequiredService<PersonalizerOptions>().Redis));
        services.TryAddSingleton<RedisChangeFeed>();
        services.TryAddSingleton<IChangeFeed>(sp => sp.GetRequiredService<PersonalizerOptions>().Store == StoreKind.Redis
            ? sp.GetRequiredService<RedisChangeFeed>()
            : ActivatorUtilities.CreateInstance<LocalChangeFeed>(sp));
        services.TryAddSingleton<IModelPublisher>(sp => sp.GetRequiredService<PersonalizerOptions>().Store == StoreKind.Redis
            ? sp.GetRequiredService<RedisChangeFeed>()
            : ActivatorUtilities.CreateInstance<LocalModelPublisher>(sp));
        services.TryAddSingleton(sp =>
        {
            var o = sp.GetRequiredService<PersonalizerOptions>();
            return new ArchiveSettings(o.Archive.Path ?? Path.Combine(o.DataPath, "archive"), Path.Combine(o.DataPath, "state", "archive.json"), o.Archive);
        });
        services.TryAddSingleton(sp => new EventArchive(new ArchiveLayout(sp.GetRequiredService<ArchiveSettings>().Root)));
        services.TryAddSingleton(sp => sp.GetRequiredService<PersonalizerOptions>().Retention);
        services.TryAddSingleton<Archiver>();
        services.TryAddSingleton<IArchivePosition>(sp => sp.GetRequiredService<Archiver>());
        services.TryAddSingleton<EventHistory>();
        services.TryAddSingleton<DataCompaction>();
        services.TryAddSingleton<EventService>();
        services.TryAddSingleton<ProfileService>();
        services.TryAddSingleton<CatalogService>();
        services.TryAddSingleton<ConfigurationService>();
        services.TryAddSingleton<ImpressionFeed>();
        services.TryAddSingleton<DecisionEngine>();
        services.TryAddSingleton<DemoSeeder>();
        services.TryAddSingleton(sp => sp.GetRequiredService<PersonalizerOptions>().Recommendations);
        services.TryAddSingleton<ModelRegistry>();
        services.TryAddSingleton<ModelTrainer>();
        services.TryAddSingleton<ModelTraining>();
        services.TryAddSingleton<TrainingJobs>();

        services.TryAddSingleton(sp => sp.GetRequiredService<PersonalizerOptions>().Crm);
        services.TryAddSingleton<CustomerModels>();
        services.TryAddSingleton<CustomerModelRefresh>();
        services.TryAddSingleton<TriggerDispatcher>();
        services.TryAddSingleton<TriggerDeliveries>();
        services.AddHttpClient(TriggerDispatcher.HttpClientName, c => c.DefaultRequestHeaders.UserAgent.ParseAdd("Personalizer-Webhooks/1"))
            .AddResilienceHandler("webhooks", pipeline => pipeline
                .AddRetry(new HttpRetryStrategyOptions { MaxRetryAttempts = 3, Delay = TimeSpan.FromSeconds(1), BackoffType = DelayBackoffType.Exponential, UseJitter = true })
                .AddTimeout(TimeSpan.FromSeconds(10)));
        services.TryAddSingleton<ThompsonWeights>();
        services.TryAddSingleton<ExperimentResults>();
        services.TryAddSingleton<SlotReport>();
        services.TryAddSingleton<ThompsonRefresh>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ISlotStrategy, ExperimentStrategy>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ISlotStrategy, PreferenceGateStrategy>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ISlotStrategy, RuleStrategy>());
        services.TryAddSingleton<RankingCache>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ProfileObserver, RankingCache>(sp => sp.GetRequiredService<RankingCache>()));
        services.TryAddSingleton<RecommendationStrategy>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ISlotStrategy, RecommendationStrategy>(sp => sp.GetRequiredService<RecommendationStrategy>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ISlotStrategy, TrendingStrategy>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ISlotStrategy, InformationStrategy>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ISlotStrategy, DefaultStrategy>());

        // Order matters: the ledger starts (recovery, replay) before anything that writes to it, and stops after.
        services.AddHostedService<LedgerHostedService>();
        services.AddHostedService(sp => sp.GetRequiredService<ImpressionFeed>());
        services.AddHostedService(sp => sp.GetRequiredService<Archiver>());
        services.AddHostedService(sp => sp.GetRequiredService<ModelTraining>());
        services.AddHostedService(sp => sp.GetRequiredService<ThompsonRefresh>());
        services.AddHostedService(sp => sp.GetRequiredService<CustomerModelRefresh>());
        services.AddHostedService(sp => sp.GetRequiredService<TriggerDispatcher>());
        return new PersonalizerBuilder(services).UseConfiguredStore();
    }
}

public sealed class PersonalizerBuilder(IServiceCollection services)
{
    public IServiceCollection Services { get; } = services;

    /// <summary>
    /// Profiles where <c>Personalizer:Store</c> says: the embedded FASTER store under <c>DataPath/profiles</c>
    /// (the default), or Redis / Redis Cluster at <c>Personalizer:Redis:Configuration</c>.
    /// </summary>
    public PersonalizerBuilder UseConfiguredStore()
    {
        Services.RemoveAll<IProfileStore>();
        Services.RemoveAll<ICounterStore>();
        Services.AddSingleton<IProfileStore>(sp =>
        {
            var o = sp.GetRequiredService<PersonalizerOptions>();
            return o.Store switch
            {
                StoreKind.Redis => new RedisProfileStore(sp.GetRequiredService<RedisConnection>(), o.Redis, Path.Combine(o.DataPath, "state")),
                _ => new FasterProfileStore(Path.Combine(o.DataPath, "profiles"), o.Faster, sp.GetRequiredService<ILogger<FasterProfileStore>>()),
            };
        });
        // Counters beside the profiles: in the same FASTER store (one checkpoint covers both), or in Redis.
        Services.AddSingleton<ICounterStore>(sp => sp.GetRequiredService<PersonalizerOptions>().Store switch
        {
            StoreKind.Redis => new RedisCounterStore(sp.GetRequiredService<RedisConnection>()),
            _ => (ICounterStore)sp.GetRequiredService<IProfileStore>(),
        });
        return this;
    }

    /// <summary>Adds a strategy to every slot's chain, at its <see cref="ISlotStrategy.Order"/>.</summary>
    public PersonalizerBuilder AddStrategy<T>() where T : class, ISlotStrategy
    {
        Services.AddSingleton<ISlotStrategy, T>();
        return this;
    }
}

/// <summary>Starts the ledger (recovery and replay) and seeds the demo; stops it with a last checkpoint.</summary>
internal sealed class LedgerHostedService(Ledger ledger, IChangeFeed changes, DemoSeeder demo, PersonalizerOptions options) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await ledger.StartAsync(cancellationToken).ConfigureAwait(false);
        await changes.StartAsync(cancellationToken).ConfigureAwait(false);
        if (options.SeedDemo)
        {
            await demo.SeedIfEmptyAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await changes.StopAsync(cancellationToken).ConfigureAwait(false);
        await ledger.StopAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>Data annotations of the nested option groups, which the default validator does not reach.</summary>
internal sealed class NestedOptionsValidator : IValidateOptions<PersonalizerOptions>
{
    public ValidateOptionsResult Validate(string? name, PersonalizerOptions options)
    {
        var failures = new List<string>();
        Check("Faster", options.Faster, failures);
        Check("Profiles", options.Profiles, failures);
        Check("Limits", options.Limits, failures);
        Check("Redis", options.Redis, failures);
        Check("Crm", options.Crm, failures);
        Check("Archive", options.Archive, failures);
        Check("Retention", options.Retention, failures);
        foreach (var (site, s) in options.Sites)
        {
            if (!Ids.IsValid(site))
            {
                failures.Add($"Sites:{site}: a site id must be {Ids.Rule}.");
            }
            if (s.SiteKeys.Count + s.AdminKeys.Count == 0)
            {
                failures.Add($"Sites:{site}: the site has no keys.");
            }
            Check($"Sites:{site}:RateLimit", s.RateLimit, failures);
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Check(string prefix, object value, List<string> failures)
    {
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(value, new ValidationContext(value), results, validateAllProperties: true))
        {
            failures.AddRange(results.Select(r => $"Personalizer:{prefix}: {r.ErrorMessage}"));
        }
    }
}
