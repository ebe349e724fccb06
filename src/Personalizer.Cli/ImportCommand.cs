using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;

namespace Personalizer.Cli;

/// <summary>
/// <c>events import FILE</c> and <c>catalog import FILE</c>: stream a file to a running service's import
/// endpoint, with a progress line.
/// </summary>
internal static class ImportCommand
{
    public static Command Create() => Create(
        "events import", "Import a history into a site (past timestamps allowed; idempotent by event id).",
        "NDJSON: one event per line, in the shape POST /v1/events takes (what 'events export' writes)",
        HttpMethod.Post, "/v1/events/import", _ => "application/x-ndjson");

    public static Command CreateCatalog() => Create(
        "catalog import", "Import a product feed into a site's catalogue (every item inserted or replaced; the feed applied whole or not at all).",
        "NDJSON (one item per line, as PUT /v1/catalog/items takes) or CSV (.csv: a header of id, title, categories, price, currency, inStock, brand, tags, url, imageUrl)",
        HttpMethod.Put, "/v1/catalog/feed", f => f.Extension.Equals(".csv", StringComparison.OrdinalIgnoreCase) ? "text/csv" : "application/x-ndjson");

    private static Command Create(string command, string summary, string fileHelp, HttpMethod method, string endpoint, Func<FileInfo, string> contentType)
    {
        var name = command;
        var file = new Argument<FileInfo>("file") { Description = fileHelp };
        var url = new Option<string>("--url") { Description = "the service, e.g. http://localhost:5000", Required = true };
        var key = new Option<string>("--key") { Description = "the site's admin key (or set PERSONALIZER_ADMIN_KEY)" };
        var import = new Command("import", summary) { file, url, key };
        import.SetAction(async (parse, ct) =>
        {
            var path = parse.GetValue(file)!;
            if (!path.Exists)
            {
                Console.Error.WriteLine($"{name}: no file '{path.FullName}'");
                return 2;
            }
            var adminKey = parse.GetValue(key) ?? Environment.GetEnvironmentVariable("PERSONALIZER_ADMIN_KEY");
            if (string.IsNullOrEmpty(adminKey))
            {
                Console.Error.WriteLine($"{name}: give the site's admin key with --key or PERSONALIZER_ADMIN_KEY");
                return 2;
            }
            if (!Uri.TryCreate(parse.GetValue(url), UriKind.Absolute, out var address) || (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps))
            {
                Console.Error.WriteLine($"{name}: --url must be the service's http(s) address, e.g. http://localhost:5000");
                return 2;
            }
            using var http = new HttpClient { BaseAddress = address, Timeout = Timeout.InfiniteTimeSpan };
            http.DefaultRequestHeaders.Add("X-Api-Key", adminKey);
            var clock = Stopwatch.StartNew();
            await using var stream = new ProgressStream(path.OpenRead(), path.Length);
            using var content = new StreamContent(stream, 1 << 16);
            content.Headers.ContentType = new MediaTypeHeaderValue(contentType(path));
            using var response = await http.SendAsync(new HttpRequestMessage(method, endpoint) { Content = content }, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            Console.Error.WriteLine();
            if (!response.IsSuccessStatusCode)
            {
                Console.Error.WriteLine($"{name}: {(int)response.StatusCode} {response.ReasonPhrase}: {body}");
                return 1;
            }
            Console.WriteLine(body);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"imported in {clock.Elapsed.TotalSeconds:F1} s"));
            return 0;
        });
        return import;
    }

    /// <summary>Reports on stderr how much of the file was sent, at most once per percent.</summary>
    private sealed class ProgressStream(Stream inner, long length) : Stream
    {
        private long _sent;
        private int _percent = -1;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _sent; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Report(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Report(await inner.ReadAsync(buffer, cancellationToken));

        private int Report(int n)
        {
            _sent += n;
            var percent = length == 0 ? 100 : (int)(_sent * 100 / length);
            if (percent != _percent)
            {
                _percent = percent;
                Console.Error.Write(string.Create(CultureInfo.InvariantCulture, $"\rsent {_sent / 1e6:F1} of {length / 1e6:F1} MB ({percent}%){(percent == 100 ? ", applying…" : "")}"));
            }
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
