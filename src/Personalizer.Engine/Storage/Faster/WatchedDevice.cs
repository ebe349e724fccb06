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

/// <summary>A device that passes everything to another one and records its failed writes in <see cref="IoFaults"/>.</summary>
public sealed class WatchedDevice(IDevice inner, IoFaults faults) : IDevice
{
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

    public void ReadAsync(int segmentId, ulong sourceAddress, IntPtr destinationAddress, uint readLength, DeviceIOCompletionCallback callback, object context) =>
        inner.ReadAsync(segmentId, sourceAddress, destinationAddress, readLength, callback, context);

    public void ReadAsync(ulong alignedSourceAddress, IntPtr alignedDestinationAddress, uint aligned_read_length, DeviceIOCompletionCallback callback, object context) =>
        inner.ReadAsync(alignedSourceAddress, alignedDestinationAddress, aligned_read_length, callback, context);

    public void TruncateUntilAddressAsync(long toAddress, AsyncCallback callback, IAsyncResult result) => inner.TruncateUntilAddressAsync(toAddress, callback, result);

    public void TruncateUntilAddress(long toAddress) => inner.TruncateUntilAddress(toAddress);

    public void TruncateUntilSegmentAsync(int toSegment, AsyncCallback callback, IAsyncResult result) => inner.TruncateUntilSegmentAsync(toSegment, callback, result);

    public void TruncateUntilSegment(int toSegment) => inner.TruncateUntilSegment(toSegment);

    public void RemoveSegmentAsync(int segment, AsyncCallback callback, IAsyncResult result) => inner.RemoveSegmentAsync(segment, callback, result);

    public void RemoveSegment(int segment) => inner.RemoveSegment(segment);

    public long GetFileSize(int segment) => inner.GetFileSize(segment);

    public void Reset() => inner.Reset();

    public void Dispose() => inner.Dispose();

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
