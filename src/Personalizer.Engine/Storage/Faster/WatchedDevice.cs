using FASTER.core;

namespace Personalizer.Engine.Storage.Faster;

/// <summary>
/// Counts the write errors of FASTER devices. FASTER logs a failed page or checkpoint write and carries
/// on: a checkpoint whose snapshot could not be written still reports success, and its metadata file may
/// be empty. A store compares the count before and after a checkpoint to know whether it really holds.
/// </summary>
public sealed class IoFaults
{
    private long _count;
    private uint _lastError;

    public long Count => Interlocked.Read(ref _count);

    /// <summary>The operating system's code of the latest failed write (28 is "no space left on device").</summary>
    public uint LastError => Volatile.Read(ref _lastError);

    internal void Record(uint errorCode)
    {
        Volatile.Write(ref _lastError, errorCode);
        Interlocked.Increment(ref _count);
    }
}

/// <summary>
/// A device that passes everything to another one and records its failed writes in <see cref="IoFaults"/>.
/// With <c>readInline</c>, reads of segment files are done on the calling thread (a positional read, completed
/// before <see cref="ReadAsync(int, ulong, IntPtr, uint, DeviceIOCompletionCallback, object)"/> returns): FASTER's
/// managed device reads through an asynchronous <see cref="FileStream"/>, which on Linux is a blocking read queued
/// to the thread pool, and a profile read that waits for it (under the store's gate) held one pool thread while
/// needing another. On one core that was a stall until the pool grew, every time a profile came from disk.
/// </summary>
public sealed class WatchedDevice(IDevice inner, IoFaults faults, bool readInline = false) : IDevice
{
    private readonly Dictionary<int, Microsoft.Win32.SafeHandles.SafeFileHandle> _readers = [];

    public uint SectorSize => inner.SectorSize;
    public string FileName => inner.FileName;
    public long Capacity => inner.Capacity;
    public long SegmentSize => inner.SegmentSize;
    public int StartSegment => inner.StartSegment;
    public int EndSegment => inner.EndSegment;

    public int ThrottleLimit
    {
        get => inner.ThrottleLimit;
        set => inner.ThrottleLimit = value;
    }

    public void Initialize(long segmentSize, LightEpoch epoch = null!, bool omitSegmentIdFromFilename = false) =>
        inner.Initialize(segmentSize, epoch, omitSegmentIdFromFilename);

    public bool TryComplete() => inner.TryComplete();

    public bool Throttle() => inner.Throttle();

    public void WriteAsync(IntPtr sourceAddress, int segmentId, ulong destinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context) =>
        inner.WriteAsync(sourceAddress, segmentId, destinationAddress, numBytesToWrite, Watch(callback), context);

    public void WriteAsync(IntPtr alignedSourceAddress, ulong alignedDestinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context) =>
        inner.WriteAsync(alignedSourceAddress, alignedDestinationAddress, numBytesToWrite, Watch(callback), context);

    public void ReadAsync(int segmentId, ulong sourceAddress, IntPtr destinationAddress, uint readLength, DeviceIOCompletionCallback callback, object context)
    {
        if (!readInline)
        {
            inner.ReadAsync(segmentId, sourceAddress, destinationAddress, readLength, callback, context);
            return;
        }
        uint error = 0;
        var read = 0;
        try
        {
            unsafe
            {
                var target = new Span<byte>((void*)destinationAddress, (int)readLength);
                var handle = Reader(segmentId);
                // A short read is only the end of the file: what is there, as FASTER's own device reports it.
                while (read < target.Length)
                {
                    var n = RandomAccess.Read(handle, target[read..], (long)sourceAddress + read);
                    if (n == 0)
                    {
                        break;
                    }
                    read += n;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            error = ex.HResult is var code && code != 0 ? unchecked((uint)code) : 5;
        }
        callback(error, (uint)read, context);
    }

    private Microsoft.Win32.SafeHandles.SafeFileHandle Reader(int segment)
    {
        lock (_readers)
        {
            if (!_readers.TryGetValue(segment, out var handle) || handle.IsClosed)
            {
                _readers[segment] = handle = File.OpenHandle($"{inner.FileName}.{segment}", FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            }
            return handle;
        }
    }

    /// <summary>Closes the read handles of segments from <paramref name="from"/> up to, not including, <paramref name="until"/>.</summary>
    private void CloseReaders(int from = int.MinValue, int until = int.MaxValue)
    {
        lock (_readers)
        {
            foreach (var (id, handle) in _readers.ToArray())
            {
                if (id >= from && id < until)
                {
                    handle.Dispose();
                    _readers.Remove(id);
                }
            }
        }
    }

    public void ReadAsync(ulong alignedSourceAddress, IntPtr alignedDestinationAddress, uint aligned_read_length, DeviceIOCompletionCallback callback, object context)
    {
        if (readInline && inner.SegmentSize > 0)
        {
            // FASTER reads by log address: its segment and the offset in it, as its own device splits them.
            var segmentSize = (ulong)inner.SegmentSize;
            ReadAsync((int)(alignedSourceAddress / segmentSize), alignedSourceAddress % segmentSize, alignedDestinationAddress, aligned_read_length, callback, context);
            return;
        }
        inner.ReadAsync(alignedSourceAddress, alignedDestinationAddress, aligned_read_length, callback, context);
    }

    public void TruncateUntilAddressAsync(long toAddress, AsyncCallback callback, IAsyncResult result)
    {
        CloseReadersBelow(toAddress);
        inner.TruncateUntilAddressAsync(toAddress, callback, result);
    }

    public void TruncateUntilAddress(long toAddress)
    {
        CloseReadersBelow(toAddress);
        inner.TruncateUntilAddress(toAddress);
    }

    public void TruncateUntilSegmentAsync(int toSegment, AsyncCallback callback, IAsyncResult result)
    {
        CloseReaders(until: toSegment);
        inner.TruncateUntilSegmentAsync(toSegment, callback, result);
    }

    public void TruncateUntilSegment(int toSegment)
    {
        CloseReaders(until: toSegment);
        inner.TruncateUntilSegment(toSegment);
    }

    /// <summary>A read handle would keep a deleted segment's disk space: segments truncated away lose theirs first.</summary>
    private void CloseReadersBelow(long address)
    {
        if (inner.SegmentSize > 0)
        {
            CloseReaders(until: (int)(address / inner.SegmentSize));
        }
    }

    public void RemoveSegmentAsync(int segment, AsyncCallback callback, IAsyncResult result)
    {
        CloseReaders(segment, segment + 1);
        inner.RemoveSegmentAsync(segment, callback, result);
    }

    public void RemoveSegment(int segment)
    {
        CloseReaders(segment, segment + 1);
        inner.RemoveSegment(segment);
    }

    public long GetFileSize(int segment) => inner.GetFileSize(segment);

    public void Reset()
    {
        CloseReaders();
        inner.Reset();
    }

    public void Dispose()
    {
        CloseReaders();
        inner.Dispose();
    }

    private DeviceIOCompletionCallback Watch(DeviceIOCompletionCallback callback) => (errorCode, numBytes, context) =>
    {
        if (errorCode != 0)
        {
            faults.Record(errorCode);
        }
        callback(errorCode, numBytes, context);
    };
}

/// <summary>Local files for FASTER's checkpoints, every device watched by the same <see cref="IoFaults"/>.</summary>
public sealed class WatchedDeviceFactory(IoFaults faults) : INamedDeviceFactory
{
    private readonly LocalStorageNamedDeviceFactory _files = new();

    public void Initialize(string baseName) => _files.Initialize(baseName);

    public IDevice Get(FileDescriptor fileInfo) => new WatchedDevice(_files.Get(fileInfo), faults);

    public void Delete(FileDescriptor fileInfo) => _files.Delete(fileInfo);

    public IEnumerable<FileDescriptor> ListContents(string path) => _files.ListContents(path);
}
