using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Personalizer.Engine.Configuration;
using Personalizer.Engine.Profiles;
using Personalizer.Engine.Storage;
using Personalizer.Engine.Pipeline;

namespace Personalizer.Engine.Triggers;

/// <summary>What a webhook receives. <see cref="Id"/> is also the <c>Idempotency-Key</c> header: the same for every attempt.</summary>
public sealed record WebhookMessage(
    string Id, string Site, string Trigger, string VisitorId, string? CustomerId, string[] Items,
    DateTimeOffset DueAt, DateTimeOffset SentAt, string StartedBy, int Attempt);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(WebhookMessage))]
internal sealed partial class WebhookJsonContext : JsonSerializerContext;

/// <summary>
/// Sends due messages, once a second (on the injected <see cref="TimeProvider"/>). Each POST carries
/// the headers <c>Idempotency-Key</c> and <c>X-Personalizer-Signature: t=UNIX,v1=HEX</c>, where HEX is
/// HMAC-SHA256 with the trigger's secret over "UNIX.BODY". A failed delivery is retried by the HTTP
/// client's resilience pipeline (3 quick retries), then again by this loop after 1, 2, 4 … 60 minutes,
/// until it succeeds: at least once. Consent is checked at send time: a visitor who refused tracking
/// is never messaged.
/// </summary>
public sealed partial class TriggerDispatcher(
    TriggerScheduler scheduler, ConfigurationStore configuration, ProfileService profiles, IHttpClientFactory http, TimeProvider time, ILogger<TriggerDispatcher> logger,
    TriggerDeliveries deliveries)
    : BackgroundService
{
    public const string HttpClientName = "personalizer-webhooks";
    public const string SignatureHeader = "X-Personalizer-Signature";
    public static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Tick, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await DispatchDueAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                DispatchFailed(logger, ex);
            }
        }
    }

    public async Task DispatchDueAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        foreach (var message in scheduler.Due(now.ToUnixTimeMilliseconds()))
        {
            if (!configuration.Current(message.Site).Triggers.TryGetValue(message.Trigger, out var trigger) || !trigger.Enabled)
            {
                scheduler.Done(message); // the trigger was deleted or switched off meanwhile
                continue;
            }
            VisitorProfile? profile;
            try
            {
                profile = await profiles.GetAsync(message.Site, message.VisitorId, ct).ConfigureAwait(false);
            }
            catch (StoreUnavailableException)
            {
                return; // consent cannot be checked now: the next tick tries again
            }
            if (profile?.Preferences.Tracking == TrackingConsent.Denied)
            {
                scheduler.Done(message);
                continue;
            }
            message.Attempts++;
            var (ok, status, error) = await SendAsync(trigger, trigger.Webhook, message, now, ct).ConfigureAwait(false);
            if (ok)
            {
                scheduler.Done(message);
                Delivered(logger, message.Trigger, message.VisitorId, message.Attempts);
                deliveries.Add(message.Site, new DeliveryAttempt(message.IdempotencyKey, message.Trigger, message.VisitorId, message.Attempts, now, "delivered", status, null, null, Test: false));
            }
            else
            {
                var wait = TimeSpan.FromMinutes(Math.Min(60, Math.Pow(2, message.Attempts - 1)));
                message.NextAttemptAt = (now + wait).ToUnixTimeMilliseconds();
                Postponed(logger, message.Trigger, message.VisitorId, message.Attempts, wait.TotalMinutes);
                deliveries.Add(message.Site, new DeliveryAttempt(message.IdempotencyKey, message.Trigger, message.VisitorId, message.Attempts, now, "retrying", status, error, now + wait, Test: false));
            }
        }
    }

    /// <summary>
    /// Sends one test message for <paramref name="trigger"/> now, signed like every other, to
    /// <paramref name="url"/> (or the trigger's webhook): visitor <c>test</c>, started by <c>test</c>.
    /// Nothing is scheduled or retried beyond the HTTP client's own retries.
    /// </summary>
    public async Task<DeliveryAttempt> TestAsync(string site, TriggerDefinition trigger, Uri? url, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var message = new PendingMessage
        {
            Site = site, Trigger = trigger.Id, VisitorId = "test", Items = [], DueAt = now.ToUnixTimeMilliseconds(),
            IdempotencyKey = "test-" + Guid.NewGuid().ToString("N"), Attempts = 1, StartedBy = "test",
        };
        var (ok, status, error) = await SendAsync(trigger, url?.ToString() ?? trigger.Webhook, message, now, ct).ConfigureAwait(false);
        var attempt = new DeliveryAttempt(message.IdempotencyKey, trigger.Id, "test", 1, now, ok ? "delivered" : "failed", status, error, null, Test: true);
        deliveries.Add(site, attempt);
        return attempt;
    }

    private async Task<(bool Ok, int? Status, string? Error)> SendAsync(TriggerDefinition trigger, string url, PendingMessage message, DateTimeOffset now, CancellationToken ct)
    {
        var body = JsonSerializer.Serialize(new WebhookMessage(
            message.IdempotencyKey, message.Site, message.Trigger, message.VisitorId, message.CustomerId, message.Items,
            DateTimeOffset.FromUnixTimeMilliseconds(message.DueAt), now, message.StartedBy, message.Attempts), WebhookJsonContext.Default.WebhookMessage);
        var timestamp = now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Idempotency-Key", message.IdempotencyKey);
        request.Headers.Add(SignatureHeader, $"t={timestamp},v1={Sign(trigger.Secret, timestamp, body)}");
        try
        {
            using var client = http.CreateClient(HttpClientName);
            using var response = await client.SendAsync(request, ct).ConfigureAwait(false);
            return (response.IsSuccessStatusCode, (int)response.StatusCode, response.IsSuccessStatusCode ? null : $"the receiver answered {(int)response.StatusCode} {response.ReasonPhrase}");
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or TimeoutException or Polly.Timeout.TimeoutRejectedException && !ct.IsCancellationRequested)
        {
            return (false, null, ex.Message);
        }
    }

    /// <summary>Lower-case hex HMAC-SHA256 of "TIMESTAMP.BODY" (what a receiver recomputes to verify).</summary>
    public static string Sign(string secret, string timestamp, string body) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(timestamp + "." + body)));

    [LoggerMessage(50, LogLevel.Information, "Trigger '{Trigger}' delivered for visitor '{Visitor}' (attempt {Attempt})")]
    private static partial void Delivered(ILogger logger, string trigger, string visitor, int attempt);

    [LoggerMessage(51, LogLevel.Warning, "Trigger '{Trigger}' for visitor '{Visitor}' failed (attempt {Attempt}); next try in {Minutes} min")]
    private static partial void Postponed(ILogger logger, string trigger, string visitor, int attempt, double minutes);

    [LoggerMessage(52, LogLevel.Error, "Sending triggered messages failed; the next tick tries again")]
    private static partial void DispatchFailed(ILogger logger, Exception exception);
}
