using MessagePack;

namespace Personalizer.Engine.Configuration;

/// <summary>
/// A triggered message: when <see cref="Event"/> happens and <see cref="When"/> holds, wait
/// <see cref="WaitMinutes"/>; unless <see cref="CancelOn"/> happens meanwhile, POST the message to
/// <see cref="Webhook"/>, signed with <see cref="Secret"/>. Another start event restarts the wait.
/// </summary>
[MessagePackObject]
public sealed record TriggerDefinition
{
    [Key(0)] public string Id { get; init; } = "";
    [Key(1)] public string? Description { get; init; }
    /// <summary>The event type that starts the wait (e.g. <c>add_to_cart</c>).</summary>
    [Key(2)] public string Event { get; init; } = "";
    /// <summary>A condition on the profile after the start event, e.g. <c>profile.orders == 1</c>; empty: always.</summary>
    [Key(3)] public string? When { get; init; }
    [Key(4)] public double WaitMinutes { get; init; }
    /// <summary>The event type that cancels a waiting message (e.g. <c>purchase</c>); null: nothing cancels.</summary>
    [Key(5)] public string? CancelOn { get; init; }
    [Key(6)] public string Webhook { get; init; } = "";
    /// <summary>The HMAC-SHA256 key of the signature header; never shown by the API.</summary>
    [Key(7)] public string Secret { get; init; } = "";
    [Key(8)] public bool Enabled { get; init; } = true;
}
