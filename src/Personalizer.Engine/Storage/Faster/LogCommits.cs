using System.Buffers.Binary;
using FASTER.core;
using Personalizer.Engine.Pipeline;

namespace Personalizer.Engine.Storage.Faster;

/// <summary>
/// The event log's commit records, written so that a full or failing disk never costs the last good
/// one: each commit goes to a temporary file, is flushed to disk and then renamed into place, and older
/// commits are deleted only after that (the last few are kept: recovery falls back to them). FASTER's
/// own manager writes over without reporting a failed write and deletes the previous commit anyway, so a
/// zero-byte file could replace the only good one. A failed write is recorded here, and
/// <see cref="FasterEventLog.CommitAsync"/> turns it into an error: a commit whose record is not on disk
/// is not a commit. Files keep FASTER's layout (<c>log-commits/commit.N.0</c>, length-prefixed), so logs
/// written before still recover.
/// </summary>
public sealed class LogCommits(string directory) : ILogCommitManager
{
    private const int Keep = 3;
    private readonly string _folder = Path.Combine(directory, "log-commits");
    private readonly Lock _lock = new();
    private Exception? _failure;

    private long _durableUntil;

    /// <summary>
    /// The error of the last commit record that could not be written, until a later one is written: a later commit
    /// record that fails does not take back an earlier one, and one written covers the commits that failed before it.
    /// </summary>
    public Exception? Failure
    {
        get
        {
            lock (_lock)
            {
                return _failure;
            }
        }
    }

    /// <summary>The log address up to which a commit record was written.</summary>
    public long DurableUntil => Interlocked.Read(ref _durableUntil);

    public void Commit(long beginAddress, long untilAddress, byte[] commitMetadata, long commitNum, bool forceWriteMetadata)
    {
        // Called by FASTER's commit worker, which must not throw: a failure is handed back through Failure.
        try
        {
            Directory.CreateDirectory(_folder);
            // Several commits a second under load: a stream buffer of the record's own size (one write), not the default 64 KiB.
            DurableFiles.Replace(PathFor(commitNum), stream =>
            {
                Span<byte> length = stackalloc byte[4];
                BinaryPrimitives.WriteInt32LittleEndian(length, commitMetadata.Length);
                stream.Write(length);
                stream.Write(commitMetadata);
            }, bufferSize: 4 + commitMetadata.Length);
            lock (_lock)
            {
                _durableUntil = Math.Max(_durableUntil, untilAddress);
                _failure = null;
            }
            foreach (var old in ListCommits().Skip(Keep))
            {
                RemoveCommit(old);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            lock (_lock)
            {
                _failure = ex;
            }
        }
    }

    public byte[] GetCommitMetadata(long commitNum)
    {
        var path = PathFor(commitNum);
        if (!File.Exists(path))
        {
            return null!;
        }
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 4)
        {
            return null!; // empty or cut short: not a commit; recovery tries the one before
        }
        var length = BinaryPrimitives.ReadInt32LittleEndian(bytes);
        return length < 0 || length > bytes.Length - 4 ? null! : bytes.AsSpan(4, length).ToArray();
    }

    public IEnumerable<long> ListCommits()
    {
        if (!Directory.Exists(_folder))
        {
            return [];
        }
        var numbers = new List<long>();
        foreach (var file in Directory.EnumerateFiles(_folder, "commit.*"))
        {
            var parts = Path.GetFileName(file).Split('.');
            if (parts.Length == 3 && parts[2] == "0" && long.TryParse(parts[1], out var number))
            {
                numbers.Add(number);
            }
        }
        numbers.Sort();
        numbers.Reverse();
        return numbers;
    }

    public void RemoveCommit(long commitNum) => DurableFiles.TryDelete(PathFor(commitNum));

    public void RemoveAllCommits()
    {
        foreach (var commit in ListCommits())
        {
            RemoveCommit(commit);
        }
    }

    public void OnRecovery(long commitNum)
    {
        // Newer commits that could not be read are left for inspection; they are replaced as commits go on.
    }

    public void Dispose()
    {
    }

    private string PathFor(long commitNum) => Path.Combine(_folder, $"commit.{commitNum}.0");
}
