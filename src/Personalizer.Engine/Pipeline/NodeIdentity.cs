namespace Personalizer.Engine.Pipeline;

/// <summary>
/// A node's stable id in a shared store: <c>Personalizer:NodeId</c> when set, otherwise one made at the
/// first start and kept in <c>DataPath/node-id</c>. It must survive restarts: replaying the node's log
/// after a crash relies on the sequence numbers stored under it.
/// </summary>
public static class NodeIdentity
{
    public static string Resolve(string dataPath, string? configured)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured;
        }
        Directory.CreateDirectory(dataPath);
        var path = Path.Combine(dataPath, "node-id");
        if (File.Exists(path))
        {
            var stored = File.ReadAllText(path).Trim();
            if (stored.Length > 0)
            {
                return stored;
            }
        }
        var id = "n-" + Guid.NewGuid().ToString("N")[..12];
        DurableFiles.Replace(path, stream => stream.Write(System.Text.Encoding.UTF8.GetBytes(id)));
        return id;
    }

    /// <summary>The node a stopped data folder belonged to: its kept id on a shared store, the only writer otherwise.</summary>
    public static LogNode Read(string dataPath)
    {
        var path = Path.Combine(dataPath, "node-id");
        var stored = File.Exists(path) ? File.ReadAllText(path).Trim() : "";
        return stored.Length > 0 ? new LogNode(stored) : LogNode.OnlyWriter;
    }
}

/// <summary>
/// Who applies this node's log records: <see cref="Id"/> is empty on a store only this node writes
/// (sequence numbers alone are unique), and the node's id on a store several nodes share.
/// </summary>
public sealed record LogNode(string Id)
{
    public static LogNode OnlyWriter { get; } = new("");
}
