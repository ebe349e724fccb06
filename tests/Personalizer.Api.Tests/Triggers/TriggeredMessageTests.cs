using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Personalizer.Engine.Triggers;

namespace Personalizer.Api.Tests.Triggers;

/// <summary>A webhook receiver on a loopback port that records what it gets and can fail the first requests.</summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _failuresLeft;

    public sealed record Received(string Body, string Signature, string IdempotencyKey, int Status);

    public ConcurrentQueue<Received> Requests { get; } = new();

    private WebhookReceiver(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    public IEnumerable<Received> Accepted => Requests.Where(r => r.Status == 200);

    public void FailNext(int count) => _failuresLeft = count;

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/hook", async (HttpContext http) =>
        {
            var body = await new StreamReader(http.Request.Body).ReadToEndAsync();
            var status = Interlocked.Decrement(ref receiver._failuresLeft) >= 0 ? 503 : 200;
            receiver.Requests.Enqueue(new Received(body, http.Request.Headers[TriggerDispatcher.SignatureHeader].ToString(), http.Request.Headers["Idempotency-Key"].ToString(), status));
            return Results.StatusCode(status);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.Url = new Uri(address.TrimEnd('/') + "/hook");
        return receiver;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}

public sealed class TriggeredMessageTests : IAsyncLifetime, IDisposable
{
    private const string Secret = "a-secret-of-at-least-16";
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly PersonalizerApp _app;
    private WebhookReceiver _receiver = null!;
    private HttpClient _admin = null!;
    private HttpClient _site = null!;

    public TriggeredMessageTests() => _app = new PersonalizerApp(services => services.AddSingleton<TimeProvider>(_time));

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync();
        _admin = _app.Client(PersonalizerApp.AdminKey);
        _site = _app.Client(PersonalizerApp.SiteKey);
        await _admin.PutJson("/v1/triggers/cart-abandoned", $$"""
            { "description": "cart abandonment", "event": "add_to_cart", "waitMinutes": 30, "cancelOn": "purchase",
              "webhook": "{{_receiver.Url}}", "secret": "{{Secret}}" }
            """).AssertStatus(HttpStatusCode.OK);
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    public void Dispose() => _app.Dispose();

    private Task AddToCart(string visitor, string id) => _site.SendEvents(
        $$"""{"eventId":"{{id}}","type":"add_to_cart","visitorId":"{{visitor}}","itemId":"sku-run-001","quantity":1,"price":40}""").AssertStatus(HttpStatusCode.Accepted);

    /// <summary>Moves the fake clock on in steps (each lets the dispatcher tick), giving the real world a moment after each.</summary>
    private async Task AdvanceAsync(TimeSpan total, TimeSpan? step = null)
    {
        var by = step ?? TimeSpan.FromMinutes(1);
        for (var passed = TimeSpan.Zero; passed < total; passed += by)
        {
            _time.Advance(by);
            await Task.Delay(20);
        }
    }

    private async Task<List<WebhookReceiver.Received>> WaitForAsync(Func<bool> done)
    {
        for (var i = 0; i < 200 && !done(); i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(25);
        }
        return [.. _receiver.Requests];
    }

    [Fact]
    public async Task ACartAbandonmentArrivesOnceAfterTheWaitWithAValidSignature()
    {
        await AddToCart("shopper", "c1");
        await AdvanceAsync(TimeSpan.FromMinutes(29));
        await Task.Delay(200);
        Assert.Empty(_receiver.Requests);

        var received = await WaitForAsync(() => !_receiver.Requests.IsEmpty);
        // Delivery is at least once: a jump of the test clock can time out a request in flight, and its retry
        // carries the same idempotency key, which is what a receiver dedupes by.
        var message = Assert.Single(received.DistinctBy(r => r.IdempotencyKey));
        var signature = message.Signature.Split(',').ToDictionary(p => p.Split('=')[0], p => p.Split('=')[1]);
        Assert.Equal(TriggerDispatcher.Sign(Secret, signature["t"], message.Body), signature["v1"]);
        using var body = JsonDocument.Parse(message.Body);
        Assert.Equal("cart-abandoned", body.RootElement.GetProperty("trigger").GetString());
        Assert.Equal("shopper", body.RootElement.GetProperty("visitorId").GetString());
        Assert.Equal("sku-run-001", body.RootElement.GetProperty("items")[0].GetString());
        Assert.Equal(message.IdempotencyKey, body.RootElement.GetProperty("id").GetString());

        await AdvanceAsync(TimeSpan.FromMinutes(120), TimeSpan.FromMinutes(5));
        await Task.Delay(200);
        Assert.Single(_receiver.Requests.DistinctBy(r => r.IdempotencyKey));
    }

    [Fact]
    public async Task APurchaseBeforeTheWaitEndsCancelsIt()
    {
        await AddToCart("buyer", "c2");
        await AdvanceAsync(TimeSpan.FromMinutes(10));
        await _site.SendEvents("""{"eventId":"p2","type":"purchase","visitorId":"buyer","orderId":"o2","lines":[{"itemId":"sku-run-001","quantity":1,"price":40}]}""").AssertStatus(HttpStatusCode.Accepted);
        await AddToCart("control", "c3"); // a second shopper shows the dispatcher did run
        await AdvanceAsync(TimeSpan.FromMinutes(60), TimeSpan.FromMinutes(5));
        var received = await WaitForAsync(() => !_receiver.Requests.IsEmpty);
        var only = Assert.Single(received.DistinctBy(r => r.IdempotencyKey));
        Assert.Contains("\"visitorId\":\"control\"", only.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AReceiverOutageIsRetriedUntilItSucceedsWithTheSameKey()
    {
        _receiver.FailNext(6);
        await AddToCart("patient", "c4");
        await AdvanceAsync(TimeSpan.FromMinutes(31));
        // Quick retries by the HTTP pipeline, then the dispatcher's own 1, 2, 4 … minute back-off.
        for (var i = 0; i < 60 && !_receiver.Accepted.Any(); i++)
        {
            await AdvanceAsync(TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(30));
        }
        var received = _receiver.Requests.ToList();
        Assert.Single(received, r => r.Status == 200);
        Assert.True(received.Count >= 7, $"{received.Count} attempts");
        Assert.Single(received.Select(r => r.IdempotencyKey).Distinct());
    }

    [Fact]
    public async Task AVisitorWhoRefusedTrackingIsNeverMessaged()
    {
        await AddToCart("private", "c5");
        await _site.PutJson("/v1/visitors/private/preferences", """{"tracking":"denied"}""").AssertStatus(HttpStatusCode.OK);
        await AddToCart("private", "c6");
        await AddToCart("control", "c7");
        await AdvanceAsync(TimeSpan.FromMinutes(40), TimeSpan.FromMinutes(5));
        var received = await WaitForAsync(() => !_receiver.Requests.IsEmpty);
        Assert.DoesNotContain(received, r => r.Body.Contains("\"visitorId\":\"private\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TriggersAreConfigurationWithTheirSecretHidden()
    {
        var trigger = await (await _admin.GetAsync("/v1/triggers/cart-abandoned")).Json();
        Assert.True(trigger.GetProperty("secretSet").GetBoolean());
        Assert.False(trigger.TryGetProperty("secret", out _));
        await AddToCart("waiting", "c8");
        Assert.Equal(1, (await (await _admin.GetAsync("/v1/triggers/cart-abandoned")).Json()).GetProperty("waiting").GetInt32());
        // Updating without the secret keeps it.
        await _admin.PutJson("/v1/triggers/cart-abandoned", $$"""{"event":"add_to_cart","waitMinutes":45,"webhook":"{{_receiver.Url}}"}""").AssertStatus(HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.Forbidden, (await _site.GetAsync("/v1/triggers")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync("/v1/triggers/cart-abandoned")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.GetAsync("/v1/triggers/cart-abandoned")).StatusCode);
    }

    [Theory]
    [InlineData("""{"event":"checkout","webhook":"http://127.0.0.1/h","secret":"0123456789abcdef"}""", "event")]
    [InlineData("""{"event":"add_to_cart","cancelOn":"never","webhook":"http://127.0.0.1/h","secret":"0123456789abcdef"}""", "cancelOn")]
    [InlineData("""{"event":"add_to_cart","webhook":"ftp://x/h","secret":"0123456789abcdef"}""", "webhook")]
    [InlineData("""{"event":"add_to_cart","webhook":"http://127.0.0.1/h","secret":"short"}""", "secret")]
    [InlineData("""{"event":"add_to_cart","webhook":"http://127.0.0.1/h"}""", "secret")]
    [InlineData("""{"event":"add_to_cart","waitMinutes":-5,"webhook":"http://127.0.0.1/h","secret":"0123456789abcdef"}""", "waitMinutes")]
    [InlineData("""{"event":"add_to_cart","when":"profile.orders >","webhook":"http://127.0.0.1/h","secret":"0123456789abcdef"}""", "when")]
    [InlineData("""{"event":"add_to_cart","waitMinutes":"soon","webhook":"http://127.0.0.1/h","secret":"0123456789abcdef"}""", "waitMinutes")]
    public async Task BadTriggersAreRefusedNamingTheField(string body, string field)
    {
        var response = await _admin.PutJson("/v1/triggers/new-one", body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(field, (await response.Errors()).Keys);
    }
}
