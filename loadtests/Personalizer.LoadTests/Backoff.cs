using System.Net;

namespace Personalizer.LoadTests;

/// <summary>
/// Honours a 429: for as long as its <c>Retry-After</c> says (1 s when it says nothing), requests are not
/// sent; each is answered here with a 429 of its own, so it counts as failed in the figures and the
/// service is not hammered while it is limiting the key. <see cref="Throttled"/> counts both kinds.
/// </summary>
internal sealed class Backoff(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    private long _untilTicks;
    private long _throttled;
    private long _held;

    /// <summary>429s received from the service.</summary>
    public long Throttled => Interlocked.Read(ref _throttled);

    /// <summary>Requests not sent because a 429 asked to wait.</summary>
    public long Held => Interlocked.Read(ref _held);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (DateTime.UtcNow.Ticks < Interlocked.Read(ref _untilTicks))
        {
            Interlocked.Increment(ref _held);
            return new HttpResponseMessage(HttpStatusCode.TooManyRequests) { RequestMessage = request };
        }
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            Interlocked.Increment(ref _throttled);
            var wait = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1);
            var until = DateTime.UtcNow.Add(wait < TimeSpan.FromMinutes(1) ? wait : TimeSpan.FromMinutes(1)).Ticks;
            long current;
            while ((current = Interlocked.Read(ref _untilTicks)) < until && Interlocked.CompareExchange(ref _untilTicks, until, current) != current)
            {
            }
        }
        return response;
    }
}
