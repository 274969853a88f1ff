using System.Diagnostics;
using System.Globalization;

namespace Fleetkey.Hosting;

/// <summary>
/// One process at a time serves (or imports into) a SQLite data directory. The holder keeps
/// <c>DIR/fleetkey.lock</c> open without sharing for as long as it runs: an OS lock (<c>flock</c> on
/// Unix, the share mode on Windows) that the kernel drops when the process ends however it ends,
/// <c>kill -9</c> included, so a file left behind never blocks a start. Its process id and command are
/// written to <c>DIR/fleetkey.pid</c> for the message of the process refused (a locked file cannot be
/// read with .NET's file API on Unix, which takes a shared lock to read).
/// </summary>
/// <remarks>
/// Commands that are safe beside a running server do not take it: keys, enrollments and export work
/// on the live database (SQLite in WAL mode lets them read a consistent snapshot and queue their
/// writes behind the server's). The lock file stays: deleting it on exit would let two processes
/// each lock a different file under the same name. <c>DOTNET_SYSTEM_IO_DISABLEFILELOCKING</c> turns
/// .NET's locking, and with it this protection, off.
/// </remarks>
internal sealed class DataDirectoryLock : IDisposable
{
    public const string LockFile = "fleetkey.lock";
    public const string HolderFile = "fleetkey.pid";

    // What .NET reports when the lock is held by another process: EWOULDBLOCK from flock (its number
    // on Linux, and on macOS and the BSDs) or ERROR_SHARING_VIOLATION on Windows. Other failures
    // (a read-only file system, say) are not "in use" and surface as they are.
    private const int EWouldBlockLinux = 11;
    private const int EWouldBlockBsd = 35;
    private const int SharingViolationWindows = unchecked((int)0x80070020);

    private readonly FileStream _lock;
    private readonly string _holderPath;

    private DataDirectoryLock(FileStream @lock, string holderPath)
    {
        _lock = @lock;
        _holderPath = holderPath;
    }

    /// <summary>
    /// Takes the lock of <paramref name="directory"/> (made, owner only, if it does not exist) for
    /// <paramref name="command"/>; throws <see cref="DataDirectoryInUseException"/> naming the holder
    /// when another process has it.
    /// </summary>
    public static DataDirectoryLock Acquire(string directory, string command)
    {
        DataDirectory.EnsureDirectory(directory);
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        FileStream file;
        try
        {
            file = new FileStream(Path.Combine(directory, LockFile), options);
        }
        catch (IOException exception) when (exception.HResult is EWouldBlockLinux or EWouldBlockBsd or SharingViolationWindows)
        {
            throw new DataDirectoryInUseException(directory, command, ReadHolder(Path.Combine(directory, HolderFile)), exception);
        }

        var holderPath = Path.Combine(directory, HolderFile);
        try
        {
            var partial = holderPath + ".partial";
            File.WriteAllText(partial, string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId} {command}\n"));
            File.Move(partial, holderPath, overwrite: true);
        }
        catch
        {
            file.Dispose();
            throw;
        }

        return new DataDirectoryLock(file, holderPath);
    }

    /// <summary>Files the lock adds to a directory: an import that made none of the directory removes them with its other files.</summary>
    public static IEnumerable<string> Files(string directory) => [Path.Combine(directory, LockFile), Path.Combine(directory, HolderFile)];

    public void Dispose()
    {
        // The holder file goes first, while the lock is still held: removed after, it could be the
        // next holder's.
        try
        {
            File.Delete(_holderPath);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // A stale holder file misleads no one: it is read only when the lock is held, and checked.
        }

        _lock.Dispose();
    }

    /// <summary>The holder's process id and command, when its file names a running process.</summary>
    private static (int ProcessId, string Command)? ReadHolder(string path)
    {
        try
        {
            var parts = File.ReadAllText(path).Trim().Split(' ', 2);
            if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var processId))
            {
                return null;
            }

            // The file can be an earlier holder's, left by a kill -9, while the new holder has not
            // written its own yet: a process id that is not running is no answer.
            using var process = Process.GetProcessById(processId);
            return (processId, parts[1]);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }
}

/// <summary>Another process holds the data directory's lock.</summary>
internal sealed class DataDirectoryInUseException(string directory, string command, (int ProcessId, string Command)? holder, Exception inner)
    : IOException(Describe(directory, command, holder), inner)
{
    private static string Describe(string directory, string command, (int ProcessId, string Command)? holder) => holder switch
    {
        { } h => string.Create(
            CultureInfo.InvariantCulture,
            $"the data directory {directory} is in use by process {h.ProcessId} ({(h.Command == command ? "another" : "a")} fleetkey {h.Command})"),
        null => $"the data directory {directory} is in use by another process (it holds {Path.Combine(directory, DataDirectoryLock.LockFile)})",
    };
}
