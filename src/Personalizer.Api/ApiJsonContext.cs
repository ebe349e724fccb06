using System.Text.Json;
using System.Text.Json.Serialization;
using Personalizer.Api.Catalog;
using Personalizer.Api.Decisions;
using Personalizer.Api.Events;
using Personalizer.Api.Profiles;
using Personalizer.Api.Recommendations;
using Personalizer.Api.Rules;
using Personalizer.Api.Slots;

namespace Personalizer.Api;

/// <summary>Source-generated JSON for every contract: no reflection on the request path.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(EventBatchRequest))]
[JsonSerializable(typeof(EventBatchResponse))]
[JsonSerializable(typeof(EventRequest))]
[JsonSerializable(typeof(EventImportResponse))]
[JsonSerializable(typeof(Personalizer.Api.Sites.SiteRequest))]
[JsonSerializable(typeof(Personalizer.Api.Sites.KeyRequest))]
[JsonSerializable(typeof(Personalizer.Api.Sites.KeyCreatedResponse))]
[JsonSerializable(typeof(IReadOnlyList<Personalizer.Engine.Sites.SiteView>))]
[JsonSerializable(typeof(Personalizer.Engine.Sites.SiteView))]
[JsonSerializable(typeof(Personalizer.Engine.Archive.CompactionReport))]
[JsonSerializable(typeof(DecideRequest))]
[JsonSerializable(typeof(DecideResponse))]
[JsonSerializable(typeof(ProfileResponse))]
[JsonSerializable(typeof(ProfileExport))]
[JsonSerializable(typeof(PreferencesRequest))]
[JsonSerializable(typeof(PreferencesResponse))]
[JsonSerializable(typeof(CatalogUpsertRequest))]
[JsonSerializable(typeof(CatalogUpsertResponse))]
[JsonSerializable(typeof(CatalogItemResponse))]
[JsonSerializable(typeof(SlotRequest))]
[JsonSerializable(typeof(SlotResponse))]
[JsonSerializable(typeof(SlotChangeResponse))]
[JsonSerializable(typeof(List<SlotResponse>))]
[JsonSerializable(typeof(ConfigVersionResponse))]
[JsonSerializable(typeof(List<ConfigVersionResponse>))]
[JsonSerializable(typeof(RuleRequest))]
[JsonSerializable(typeof(Personalizer.Api.Experiments.ExperimentRequest))]
[JsonSerializable(typeof(Personalizer.Api.Experiments.ExperimentChangeResponse))]
[JsonSerializable(typeof(List<Personalizer.Api.Experiments.ExperimentResponse>))]
[JsonSerializable(typeof(Personalizer.Engine.Experiments.ExperimentReport))]
[JsonSerializable(typeof(Personalizer.Engine.Experiments.SlotReportResult))]
[JsonSerializable(typeof(Personalizer.Engine.Crm.CustomerModel))]
[JsonSerializable(typeof(Personalizer.Api.Decisions.PreviewRequest))]
[JsonSerializable(typeof(Personalizer.Api.Slots.ConfigVersionContent))]
[JsonSerializable(typeof(List<Personalizer.Api.Rules.FieldResponse>))]
[JsonSerializable(typeof(Personalizer.Api.Triggers.TriggerRequest))]
[JsonSerializable(typeof(Personalizer.Api.Triggers.TriggerTestRequest))]
[JsonSerializable(typeof(Personalizer.Api.Triggers.TriggerChangeResponse))]
[JsonSerializable(typeof(List<Personalizer.Api.Triggers.TriggerResponse>))]
[JsonSerializable(typeof(RuleResponse))]
[JsonSerializable(typeof(List<RuleResponse>))]
[JsonSerializable(typeof(RuleChangeResponse))]
[JsonSerializable(typeof(SegmentRequest))]
[JsonSerializable(typeof(SegmentResponse))]
[JsonSerializable(typeof(List<SegmentResponse>))]
[JsonSerializable(typeof(SegmentChangeResponse))]
[JsonSerializable(typeof(ValidateRequest))]
[JsonSerializable(typeof(ValidateResponse))]
[JsonSerializable(typeof(List<ConditionErrorResponse>))]
[JsonSerializable(typeof(RecommendationsResponse))]
[JsonSerializable(typeof(ModelResponse))]
[JsonSerializable(typeof(List<ModelResponse>))]
[JsonSerializable(typeof(TrainingJobResponse))]
[JsonSerializable(typeof(CatalogPatchRequest))]
[JsonSerializable(typeof(CatalogListResponse))]
[JsonSerializable(typeof(CatalogFeedResponse))]
public sealed partial class ApiJsonContext : JsonSerializerContext;
