using System.Runtime.InteropServices;

namespace Fleetkey.Pki;

/// <summary>
/// Lowers the calling thread's OS scheduling priority. <see cref="Thread.Priority"/> is not applied on
/// Linux; a thread's nice value is, set through libc.
/// </summary>
internal static partial class LowPriorityThread
{
    private const int PriorityProcess = 0;

    /// <summary>Sets the calling thread's nice value on Linux; elsewhere, or without glibc, does nothing.</summary>
    public static void Lower(int nice)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            // PRIO_PROCESS with a thread id: on Linux it applies to that thread alone.
            _ = SetPriority(PriorityProcess, GetThreadId(), nice);
        }
        catch (Exception exception) when (exception is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc (or too old): the idle check alone keeps the generator out of the way.
        }
    }

    [LibraryImport("libc", EntryPoint = "setpriority")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int SetPriority(int which, int who, int priority);

    [LibraryImport("libc", EntryPoint = "gettid")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int GetThreadId();
}
