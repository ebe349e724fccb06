using System.Globalization;

namespace Personalizer.Engine.Archive;

/// <summary>
/// Where archive files go: <c>site=SITE/day=YYYY-MM-DD/NODE-FIRSTSEQ.parquet</c> (Hive-style partitions,
/// as Spark, Trino or DuckDB expect them). A file holds one node's records of one site and day, named by
/// the first sequence number it holds; a file merged from several is <c>NODE-FIRSTSEQ-LASTSEQ.parquet</c>.
/// </summary>
public sealed class ArchiveLayout(string root)
{
    public string Root { get; } = Path.GetFullPath(root);

    public static string NodeName(string node) => node.Length == 0 ? "local" : node;

    public static string Day(long unixMs) => DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public string DayFolder(string site, string day) => Path.Combine(Root, $"site={site}", $"day={day}");

    public string FileFor(string site, string day, string node, long firstSeq) => Path.Combine(DayFolder(site, day), $"{NodeName(node)}-{firstSeq:D20}.parquet");

    /// <summary>Every archive file of a site (all sites when null), of every node.</summary>
    public IReadOnlyList<string> Files(string? site = null)
    {
        var folder = site is null ? Root : Path.Combine(Root, $"site={site}");
        if (!Directory.Exists(folder))
        {
            return [];
        }
        var files = Directory.GetFiles(folder, "*.parquet", SearchOption.AllDirectories);
        Array.Sort(files, StringComparer.Ordinal);
        return files;
    }

    /// <summary>The day folders of every site: (site, day, folder).</summary>
    public IEnumerable<(string Site, string Day, string Folder)> Days()
    {
        if (!Directory.Exists(Root))
        {
            yield break;
        }
        foreach (var siteFolder in Directory.EnumerateDirectories(Root, "site=*"))
        {
            var site = Path.GetFileName(siteFolder)[5..];
            foreach (var dayFolder in Directory.EnumerateDirectories(siteFolder, "day=*"))
            {
                yield return (site, Path.GetFileName(dayFolder)[4..], dayFolder);
            }
        }
    }

    /// <summary>Parses <c>NODE-FIRSTSEQ[-LASTSEQ].parquet</c>.</summary>
    public static bool TryParse(string file, out string node, out long first, out long last)
    {
        var name = Path.GetFileNameWithoutExtension(file);
        node = "";
        first = last = 0;
        var parts = name.Split('-');
        if (parts.Length < 2)
        {
            return false;
        }
        var merged = parts.Length >= 3 && parts[^1].Length == 20 && parts[^2].Length == 20;
        if (merged)
        {
            node = string.Join('-', parts[..^2]);
            return long.TryParse(parts[^2], CultureInfo.InvariantCulture, out first) && long.TryParse(parts[^1], CultureInfo.InvariantCulture, out last);
        }
        node = string.Join('-', parts[..^1]);
        var ok = long.TryParse(parts[^1], CultureInfo.InvariantCulture, out first);
        last = first;
        return ok;
    }

    public static string QuoteList(IEnumerable<string> files) => "[" + string.Join(", ", files.Select(Quote)) + "]";

    public static string Quote(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";
}
