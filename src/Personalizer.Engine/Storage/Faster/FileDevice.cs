using System.Collections.Concurrent;
using FASTER.core;
using Microsoft.Win32.SafeHandles;

namespace Personalizer.Engine.Storage.Faster;

/// <summary>
/// Which threads a <see cref="FileDevice"/>'s writes go to: the logs' page flushes and commits on one lane,
/// checkpoint files on another, so that a 300 MB snapshot never queues ahead of an event commit.
/// </summary>
public enum IoLane
{
    Log,
    Checkpoint,
}

/// <summary>
/// Segment files (<c>NAME.0</c>, <c>NAME.1</c>, …) for FASTER, read and written with positional I/O on
/// dedicated threads. FASTER's managed device does its "asynchronous" file I/O through <see cref="FileStream"/>,
/// which on Linux is a blocking, write-through <c>pwrite</c> on a thread-pool thread: a checkpoint's hundreds
/// of page writes parked the pool's few threads (two on two cores) on the disk for seconds, and every request
/// waited behind them. Here the blocking calls run on threads of their own (<see cref="IoThreads"/>) and only
/// the completion callbacks go to the pool. Durability is the same: writes are write-through (<c>O_DSYNC</c>),
/// complete once on disk. Files, names and recovery of the segment range are those of FASTER's device, so a data
/// folder written by either is read by the other.
/// </summary>
public sealed class FileDevice : StorageDeviceBase
{
    private readonly IoLane _lane;
    private readonly Dictionary<int, (SafeFileHandle? Read, SafeFileHandle? Write)> _handles = [];
    private bool _disposed;

    public FileDevice(string filename, IoLane lane, bool recoverDevice = false) : base(filename, 512, Devices.CAPACITY_UNSPECIFIED)
    {
        _lane = lane;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(filename))!);
        if (recoverDevice)
        {
            RecoverSegments();
        }
    }

    /// <summary>The segment range from the files present, as FASTER's own device finds it.</summary>
    private void RecoverSegments()
    {
        var file = new FileInfo(FileName);
        if (file.Directory is not { Exists: true } folder)
        {
            return;
        }
        var ids = new List<int>();
        foreach (var segment in folder.GetFiles(file.Name + ".*"))
        {
            if (int.TryParse(segment.Name.AsSpan(file.Name.Length + 1), out var id))
            {
                ids.Add(id);
            }
        }
        ids.Sort();
        var previous = -1;
        foreach (var id in ids)
        {
            if (id != previous + 1)
            {
                startSegment = id;
            }
            else
            {
                endSegment = id;
            }
            previous = id;
        }
    }

    public override void ReadAsync(int segmentId, ulong sourceAddress, IntPtr destinationAddress, uint readLength, DeviceIOCompletionCallback callback, object context) =>
        IoThreads.Reads.Enqueue(new IoRequest(this, segmentId, write: false, (long)sourceAddress, destinationAddress, readLength, callback, context));

    public override void WriteAsync(IntPtr sourceAddress, int segmentId, ulong destinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context) =>
        (_lane == IoLane.Log ? IoThreads.LogWrites : IoThreads.CheckpointWrites)
            .Enqueue(new IoRequest(this, segmentId, write: true, (long)destinationAddress, sourceAddress, numBytesToWrite, callback, context));

    public override void RemoveSegment(int segment)
    {
        Close(segment);
        try
        {
            File.Delete(GetSegmentFilename(FileName, segment));
        }
        catch (IOException)
        {
            // As FASTER's device: a segment that cannot be deleted now stays behind, outside the log.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    public override void RemoveSegmentAsync(int segment, AsyncCallback callback, IAsyncResult result)
    {
        RemoveSegment(segment);
        callback(result);
    }

    public override long GetFileSize(int segment)
    {
        if (segmentSize > 0)
        {
            return segmentSize;
        }
        var path = GetSegmentFilename(FileName, segment);
        return File.Exists(path) ? new FileInfo(path).Length : 0;
    }

    public override void Reset()
    {
        lock (_handles)
        {
            foreach (var (read, write) in _handles.Values)
            {
                read?.Dispose();
                write?.Dispose();
            }
            _handles.Clear();
        }
    }

    public override void Dispose()
    {
        lock (_handles)
        {
            _disposed = true;
        }
        Reset();
    }

    private void Close(int segment)
    {
        lock (_handles)
        {
            if (_handles.Remove(segment, out var pair))
            {
                pair.Read?.Dispose();
                pair.Write?.Dispose();
            }
        }
    }

    private SafeFileHandle Handle(int segment, bool write)
    {
        lock (_handles)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _handles.TryGetValue(segment, out var pair);
            var handle = write ? pair.Write : pair.Read;
            if (handle is null)
            {
                // Separate handles, as FASTER's device: a file system remounted read-only still serves reads.
                handle = File.OpenHandle(GetSegmentFilename(FileName, segment), FileMode.OpenOrCreate,
                    write ? FileAccess.Write : FileAccess.Read, FileShare.ReadWrite | FileShare.Delete,
                    write ? FileOptions.WriteThrough : FileOptions.None);
                _handles[segment] = write ? (pair.Read, handle) : (handle, pair.Write);
            }
            return handle;
        }
    }

    /// <summary>Runs on an I/O thread: the blocking call, then the callback handed to the pool.</summary>
    internal unsafe void Execute(IoRequest request)
    {
        uint error = 0;
        uint done = 0;
        try
        {
            var handle = Handle(request.Segment, request.Write);
            if (request.Write)
            {
                RandomAccess.Write(handle, new ReadOnlySpan<byte>((void*)request.Memory, (int)request.Length), request.Offset);
                done = request.Length;
            }
            else
            {
                var buffer = new Span<byte>((void*)request.Memory, (int)request.Length);
                while (done < request.Length)
                {
                    var read = RandomAccess.Read(handle, buffer[(int)done..], request.Offset + done);
                    if (read == 0)
                    {
                        break; // end of file: the caller gets what there is, as from FASTER's device
                    }
                    done += (uint)read;
                }
            }
        }
        catch (IOException ex)
        {
            error = (uint)(ex.HResult & 0xFFFF) is var code and not 0 ? code : uint.MaxValue;
            done = 0;
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or ObjectDisposedException)
        {
            error = uint.MaxValue;
            done = 0;
        }
        request.Complete(error, done);
    }
}

/// <summary>One read or write of a <see cref="FileDevice"/>, queued to an I/O thread.</summary>
internal sealed class IoRequest(FileDevice device, int segment, bool write, long offset, IntPtr memory, uint length, DeviceIOCompletionCallback callback, object context)
{
    public FileDevice Device => device;
    public int Segment => segment;
    public bool Write => write;
    public long Offset => offset;
    public IntPtr Memory => memory;
    public uint Length => length;

    private uint _error;
    private uint _done;

    public void Complete(uint error, uint done)
    {
        _error = error;
        _done = done;
        ThreadPool.UnsafeQueueUserWorkItem(static r => r.Callback(), this, preferLocal: false);
    }

    /// <summary>
    /// FASTER's managed device runs its callbacks inside a task, where an exception (a callback that meets a store
    /// already disposed, say) is dropped with the task; here it would end the process, so it is dropped and counted.
    /// </summary>
    private void Callback()
    {
        try
        {
            callback(_error, _done, context);
        }
        catch (Exception)
        {
            Interlocked.Increment(ref IoThreads.CallbackFailures);
        }
    }
}

/// <summary>
/// The process's I/O threads: two for reads, two for log writes, two for checkpoint writes. Background
/// threads, started on first use; each takes requests from its lane's queue and blocks on the file system,
/// never on a pool thread.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The queues and their threads live as long as the process.")]
internal sealed class IoThreads
{
    public static readonly IoThreads Reads = new("fs-read", 2);
    public static readonly IoThreads LogWrites = new("fs-log", 2);
    public static readonly IoThreads CheckpointWrites = new("fs-ckpt", 2);

    /// <summary>Completion callbacks that threw since start (FASTER's, after its store was disposed).</summary>
    public static long CallbackFailures;

    private readonly BlockingCollection<IoRequest> _queue = new(new ConcurrentQueue<IoRequest>());

    private IoThreads(string name, int threads)
    {
        for (var i = 0; i < threads; i++)
        {
            new Thread(Run) { IsBackground = true, Name = $"{name}-{i}" }.Start();
        }
    }

    public void Enqueue(IoRequest request) => _queue.Add(request);

    private void Run()
    {
        foreach (var request in _queue.GetConsumingEnumerable())
        {
            request.Device.Execute(request);
        }
    }
}
