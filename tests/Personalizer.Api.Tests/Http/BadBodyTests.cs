using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Personalizer.Api.Tests.Http;

/// <summary>Bodies that are wrong in transport, not in content: each a 4xx problem, none a 500 or a logged error.</summary>
public sealed class BadBodyTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "p13n-body-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Theory]
    [InlineData("/v1/slots/broken", "PUT", "{\"kind\":\"content\",\"defaultVariant\":\"a\",\"variants\":[{\"id\":\"a\",\"content\":{\"title\":\"X", "\"}}]}")]
    [InlineData("/v1/events", "POST", "{\"events\":[{\"eventId\":\"u-1\",\"type\":\"search\",\"visitorId\":\"v\",\"query\":\"", "\"}]}")]
    [InlineData("/v1/decide", "POST", "{\"visitorId\":\"v\",\"slots\":[\"home-hero\"],\"context\":{\"url\":\"", "\"}}")]
    public async Task InvalidUtf8AnywhereInTheBodyIsABadRequest(string url, string method, string before, string after)
    {
        using var app = new PersonalizerApp();
        var client = app.Client(url.StartsWith("/v1/slots", StringComparison.Ordinal) ? PersonalizerApp.AdminKey : PersonalizerApp.SiteKey);
        byte[] body = [.. Encoding.UTF8.GetBytes(before), 0xC3, 0x28, 0xFF, .. Encoding.UTF8.GetBytes(after)]; // not UTF-8
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), url) { Content = content });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("UTF-8", (await response.Errors())["$"][0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"title":"a\ud800b"}""", "variants[0].content.title")]
    [InlineData("""{"list":["ok","\udc00"]}""", "variants[0].content.list[1]")]
    [InlineData("""{"\ud83d":1}""", "variants[0].content")]
    public async Task AnEscapeThatIsNoCharacterInVariantContentIsABadRequestAndNothingIsStored(string content, string field)
    {
        using var app = new PersonalizerApp();
        var client = app.Client(PersonalizerApp.AdminKey);
        var body = "{\"kind\":\"content\",\"defaultVariant\":\"a\",\"variants\":[{\"id\":\"a\",\"content\":" + content + "}]}";
        using var request = new StringContent(body, Encoding.UTF8, "application/json");

        var response = await client.PutAsync("/v1/slots/surrogate", request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("surrogate", (await response.Errors())[field][0], StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/slots")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/v1/slots/surrogate")).StatusCode);
    }

    [Theory]
    [InlineData("/v1/rules/validate", "POST", PersonalizerApp.AdminKey)]
    [InlineData("/v1/visitors/v-1/preferences", "PUT", PersonalizerApp.SiteKey)]
    [InlineData("/v1/rules/big", "PUT", PersonalizerApp.AdminKey)]
    public async Task EveryRouteHasABodyLimit(string url, string method, string key)
    {
        using var service = await ServiceProcess.StartAsync(_data); // Kestrel's limits hold on a real server
        var padding = new string(' ', 200 * 1024);
        using var content = new StringContent("{\"when\":\"profile.orders > 1\"" + padding + "}", Encoding.UTF8, "application/json");
        var response = await service.Client(key).SendAsync(new HttpRequestMessage(new HttpMethod(method), url) { Content = content });

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task ACutOffBodyIsABadRequestAndASlowOneATimeoutNeitherLoggedAsAnError()
    {
        using var service = await ServiceProcess.StartAsync(_data);
        var head = $"POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: {PersonalizerApp.SiteKey}\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n";

        // Cut off: a chunked body whose next chunk header is garbage (the stream broke mid-body).
        using (var cut = await ConnectAsync(service.Address))
        {
            var chunked = $"POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: {PersonalizerApp.SiteKey}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
            await cut.SendAsync(Encoding.ASCII.GetBytes(chunked + "c\r\n{\"events\":[{\r\nzz\r\n"));
            var line = await StatusLineAsync(cut);
            Assert.True(line.StartsWith("HTTP/1.1 400", StringComparison.Ordinal), line + "\n" + service.Output);
        }

        // Slow: a byte a second, far below the minimum data rate; the server gives up after its grace period.
        using (var slow = await ConnectAsync(service.Address))
        {
            await slow.SendAsync(Encoding.ASCII.GetBytes(head));
            var answer = StatusLineAsync(slow);
            for (var i = 0; i < 15 && !answer.IsCompleted; i++)
            {
                try
                {
                    await slow.SendAsync(Encoding.ASCII.GetBytes("{"));
                }
                catch (SocketException)
                {
                    break; // the server closed the connection
                }
                await Task.WhenAny(answer, Task.Delay(1000));
            }
            Assert.StartsWith("HTTP/1.1 408", await answer);
        }

        // The service is fine, and said nothing at error level about either.
        await service.Client(PersonalizerApp.SiteKey).SendEvents(HttpTestExtensions.PageView("after", "v-after")).AssertStatus(HttpStatusCode.Accepted);
        Assert.DoesNotContain("fail:", service.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("BadHttpRequestException", service.Output, StringComparison.Ordinal);
    }

    private static async Task<Socket> ConnectAsync(Uri address)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, address.Port);
        return socket;
    }

    private static async Task<string> StatusLineAsync(Socket socket)
    {
        var buffer = new byte[4096];
        var text = new StringBuilder();
        while (!text.ToString().Contains("\r\n", StringComparison.Ordinal))
        {
            var n = await socket.ReceiveAsync(buffer);
            if (n == 0)
            {
                break;
            }
            text.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }
        return text.ToString();
    }
}
