using System.Runtime.InteropServices;

namespace Personalizer.Engine.Pipeline;

/// <summary>
/// Files that replace others only once complete: written to a temporary name, flushed to disk, renamed
/// into place, and the rename made durable by flushing the folder (POSIX keeps a rename in the folder's
/// own metadata; .NET offers no way to flush a folder, hence the two libc calls).
/// </summary>
public static partial class DurableFiles
{
    /// <summary>Writes <paramref name="path"/> through a temporary file; on failure the old file is untouched and the temporary one removed.</summary>
    public static void Replace(string path, Action<Stream> write) => Replace(path, write, 1 << 16);

    /// <summary>
    /// <see cref="Replace(string, Action{Stream})"/> with a stream buffer of <paramref name="bufferSize"/> bytes: a small file
    /// written often need not allocate 64 KiB each time.
    /// </summary>
    public static void Replace(string path, Action<Stream> write, int bufferSize)
    {
        var temp = path + ".tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
            FlushFolder(Path.GetDirectoryName(Path.GetFullPath(path))!);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>
    /// Fails start-up with a message that says what is wrong when the data folder cannot be written
    /// (read-only, or no permission). A full disk is not refused: the service starts, decides, and takes
    /// writes once there is space again.
    /// </summary>
    public static void CheckWritable(string folder)
    {
        try
        {
            Directory.CreateDirectory(folder);
            Probe(folder);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            if (ex is IOException && IsFull(folder))
            {
                return;
            }
            throw new DataFolderException($"The data folder '{Path.GetFullPath(folder)}' is read-only or not writable ({ex.Message}). Point Personalizer:DataPath at a folder this process can write.", ex);
        }
    }

    /// <summary>True when the disk that holds <paramref name="folder"/> has (almost) no space left.</summary>
    public static bool IsFull(string folder)
    {
        try
        {
            return new DriveInfo(Path.GetFullPath(folder)).AvailableFreeSpace < (1 << 20);
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Writes and removes a small file in <paramref name="folder"/>: throws while the disk does not take writes.</summary>
    public static void Probe(string folder)
    {
        var path = Path.Combine(folder, ".probe");
        try
        {
            using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 4096);
            stream.Write(new byte[64 << 10]);
            stream.Flush(flushToDisk: true);
        }
        finally
        {
            TryDelete(path);
        }
    }

    /// <summary>Makes renames and deletions in <paramref name="folder"/> durable.</summary>
    public static void FlushFolder(string folder)
    {
        if (OperatingSystem.IsWindows())
        {
            return; // NTFS journals renames; there is no folder handle to flush
        }
        var fd = Open(folder, 0x10000 /* O_DIRECTORY */);
        if (fd < 0)
        {
            throw new IOException($"Cannot open folder '{folder}' to flush it (errno {Marshal.GetLastPInvokeError()}).");
        }
        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"Cannot flush folder '{folder}' to disk (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
