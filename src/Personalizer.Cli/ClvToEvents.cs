using System.CommandLine;
using System.Globalization;

namespace Personalizer.Cli;

/// <summary>
/// <c>clv to-events</c>: transactions (customer, date, quantity, amount per line, as in the CDNOW files) as
/// purchase events for <c>events import</c>: one order per line, visitor <c>PREFIX-CUSTOMER</c> with that
/// customer id, at noon UTC of its day, one line of <c>--item</c> with the amount spread over the quantity.
/// </summary>
internal static class ClvToEvents
{
    public static Command Create()
    {
        var input = new Option<FileInfo>("--transactions") { Description = "customer id first, then date (yyyyMMdd), quantity, amount last; whitespace or commas", Required = true };
        var output = new Option<FileInfo>("--out") { Required = true };
        var prefix = new Option<string>("--prefix") { Description = "visitor and event id prefix", DefaultValueFactory = _ => "cdnow" };
        var item = new Option<string>("--item") { Description = "the item id of every line", DefaultValueFactory = _ => "cd" };
        var command = new Command("to-events", "Write transactions as purchase events (NDJSON) for 'events import'.") { input, output, prefix, item };
        command.SetAction(parse =>
        {
            var file = parse.GetValue(input)!;
            if (!file.Exists)
            {
                Console.Error.WriteLine($"clv to-events: no such file '{file.FullName}'");
                return 2;
            }
            var p = parse.GetValue(prefix)!;
            var itemId = parse.GetValue(item)!;
            var seen = new Dictionary<string, int>(StringComparer.Ordinal);
            var written = 0;
            using var writer = new StreamWriter(parse.GetValue(output)!.FullName);
            foreach (var line in File.ReadLines(file.FullName))
            {
                var fields = line.Split([' ', '\t', ','], StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 4
                    || !DateTime.TryParseExact(fields[^3], "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var day)
                    || !int.TryParse(fields[^2], CultureInfo.InvariantCulture, out var quantity)
                    || !double.TryParse(fields[^1], CultureInfo.InvariantCulture, out var amount))
                {
                    continue; // the header, or a line that is not a transaction
                }
                var customer = fields[0].TrimStart('0');
                var key = $"{customer}-{fields[^3]}";
                seen[key] = seen.TryGetValue(key, out var n) ? n + 1 : 1;
                var id = $"{p}-{key}-{seen[key]}";
                quantity = Math.Max(1, quantity);
                var at = day.AddHours(12).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
                writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $$"""{"eventId":"{{id}}","type":"purchase","visitorId":"{{p}}-{{customer}}","customerId":"{{customer}}","orderId":"{{id}}","timestamp":"{{at}}","lines":[{"itemId":"{{itemId}}","quantity":{{quantity}},"price":{{Math.Round(amount / quantity, 4)}}}],"revenue":{{amount}}}"""));
                written++;
            }
            Console.WriteLine($"wrote {written} purchase events to {parse.GetValue(output)!.FullName}");
            return 0;
        });
        return command;
    }
}
