using System.Runtime.InteropServices;
using FASTER.core;
using Personalizer.Engine.Storage.Faster;

namespace Personalizer.Engine.Tests.Storage;

/// <summary>The segment-file device FASTER's logs and checkpoints are written with.</summary>
public sealed class FileDeviceTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string Name => Path.Combine(_folder.Path, "data", "test.log");

    private static Task<(uint Error, uint Bytes, bool OnPool)> WriteAsync(FileDevice device, int segment, ulong offset, byte[] bytes)
    {
        var done = new TaskCompletionSource<(uint, uint, bool)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var handle = GCHandle.Alloc(bytes, GCHandleType.Pinned);
        device.WriteAsync(handle.AddrOfPinnedObject(), segment, offset, (uint)bytes.Length, (error, count, _) =>
        {
            handle.Free();
            done.SetResult((error, count, Thread.CurrentThread.IsThreadPoolThread));
        }, null!);
        return done.Task;
    }

    private static Task<(uint Error, uint Bytes, byte[] Data)> ReadAsync(FileDevice device, int segment, ulong offset, int length)
    {
        var done = new TaskCompletionSource<(uint, uint, byte[])>(TaskCreationOptions.RunContinuationsAsynchronously);
        var buffer = new byte[length];
        var handle = GCHandle.Alloc(buffer, GCHandleType.Pinned);
        device.ReadAsync(segment, offset, handle.AddrOfPinnedObject(), (uint)length, (error, count, _) =>
        {
            handle.Free();
            done.SetResult((error, count, buffer));
        }, null!);
        return done.Task;
    }

    [Fact]
    public async Task WritesReadBackPerSegmentAndCompleteOnThePool()
    {
        using var device = new FileDevice(Name, IoLane.Log);
        device.Initialize(-1);
        var first = Enumerable.Range(0, 4096).Select(i => (byte)i).ToArray();
        var second = Enumerable.Range(0, 4096).Select(i => (byte)(255 - (i % 256))).ToArray();

        var written = await WriteAsync(device, 0, 512, first);
        Assert.Equal((0u, 4096u), (written.Error, written.Bytes));
        Assert.True(written.OnPool, "the completion callback runs on the thread pool, not on the I/O thread");
        Assert.Equal(0u, (await WriteAsync(device, 3, 0, second)).Error);

        var read = await ReadAsync(device, 0, 512, 4096);
        Assert.Equal((0u, 4096u), (read.Error, read.Bytes));
        Assert.Equal(first, read.Data);
        Assert.Equal(second, (await ReadAsync(device, 3, 0, 4096)).Data);
        Assert.True(File.Exists(Name + ".0") && File.Exists(Name + ".3"));
        Assert.Equal(512 + 4096, device.GetFileSize(0));

        // A read past the end gets what there is.
        var past = await ReadAsync(device, 0, 4096, 4096);
        Assert.Equal((0u, 512u), (past.Error, past.Bytes));
        Assert.Equal(first[^512..], past.Data[..512]);
    }

    [Fact]
    public async Task TheSegmentRangeIsRecoveredFromTheFilesAndRemovedSegmentsGo()
    {
        using (var device = new FileDevice(Name, IoLane.Log))
        {
            device.Initialize(1 << 20);
            foreach (var segment in new[] { 2, 3, 4 })
            {
                Assert.Equal(0u, (await WriteAsync(device, segment, 0, new byte[512])).Error);
            }
        }
        var epoch = new LightEpoch(); // truncation removes segments once the epoch moves past them
        using (var device = new FileDevice(Name, IoLane.Log, recoverDevice: true))
        {
            device.Initialize(1 << 20, epoch);
            Assert.Equal((2, 4), (device.StartSegment, device.EndSegment));
            device.TruncateUntilSegment(4);
            Assert.False(File.Exists(Name + ".2") || File.Exists(Name + ".3"));
            Assert.True(File.Exists(Name + ".4"));
            Assert.Equal(4, device.StartSegment);
        }
    }

    [Fact]
    public async Task AWriteThatFailsReportsAnErrorAndADisposedDeviceRefuses()
    {
        var device = new FileDevice(Name, IoLane.Checkpoint);
        device.Initialize(-1);
        Directory.CreateDirectory(Name + ".1"); // a folder where segment 1's file would go: it cannot be opened
        Assert.NotEqual(0u, (await WriteAsync(device, 1, 0, new byte[512])).Error);
        device.Dispose();
        Assert.NotEqual(0u, (await WriteAsync(device, 0, 0, new byte[512])).Error);
    }
}
