using System.CommandLine;

namespace Personalizer.Cli;

/// <summary><c>data compact</c>: asks a running node to compact its data now (erasure without waiting).</summary>
internal static class DataCommands
{
    public static Command Create()
    {
        var data = new Command("data", "A running node's data folder.");
        var url = new Option<string>("--url") { Description = "the node, e.g. http://localhost:5080", Required = true };
        var key = new Option<string>("--key") { Description = "an admin key (or set PERSONALIZER_ADMIN_KEY)" };
        var compact = new Command("compact", "Rewrite the archive files of erased visitors, the profile store's log and the event log now: afterwards no file holds an erased visitor.") { url, key };
        compact.SetAction(async (parse, ct) =>
        {
            var adminKey = parse.GetValue(key) ?? Environment.GetEnvironmentVariable("PERSONALIZER_ADMIN_KEY");
            if (string.IsNullOrEmpty(adminKey))
            {
                Console.Error.WriteLine("data compact: give an admin key with --key or PERSONALIZER_ADMIN_KEY");
                return 2;
            }
            if (!Uri.TryCreate(parse.GetValue(url), UriKind.Absolute, out var address) || (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps))
            {
                Console.Error.WriteLine("data compact: --url must be the node's http(s) address, e.g. http://localhost:5080");
                return 2;
            }
            using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(30) };
            http.DefaultRequestHeaders.Add("X-Api-Key", adminKey);
            using var response = await http.PostAsync("/v1/data/compact", null, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode)
            {
                Console.Error.WriteLine($"data compact: {(int)response.StatusCode} {response.ReasonPhrase}: {body}");
                return 1;
            }
            Console.WriteLine(body);
            return 0;
        });
        data.Subcommands.Add(compact);
        return data;
    }
}
