using System.Globalization;

namespace Fleetkey.Bench;

/// <summary>
/// What Linux's /proc says about a process and the machine. Every reader returns null where /proc
/// is missing (another OS) or the process is gone, so the bench still runs and only leaves the figure out.
/// </summary>
internal static class ProcFs
{
    // /proc reports CPU time in USER_HZ, which the kernel fixes at 100 for user space.
    private const double TicksPerSecond = 100;

    /// <summary>User plus system CPU time a process has used so far (/proc/PID/stat fields 14 and 15).</summary>
    public static TimeSpan? ProcessCpu(int pid)
    {
        var text = TryRead($"/proc/{pid}/stat");
        if (text is null)
        {
            return null;
        }

        // The command name (field 2) is in parentheses and may hold spaces; fields 3 on follow its ')'.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / TicksPerSecond);
    }

    /// <summary>Resident memory now (VmRSS) and at its peak (VmHWM), in bytes.</summary>
    public static ProcessMemory? Memory(int pid)
    {
        var text = TryRead($"/proc/{pid}/status");
        if (text is null)
        {
            return null;
        }

        long? Kilobytes(string key)
        {
            var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(key + ":", StringComparison.Ordinal));
            return line is null ? null : long.Parse(line[(key.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }

        return Kilobytes("VmRSS") is { } rss ? new ProcessMemory(rss, Kilobytes("VmHWM") ?? rss) : null;
    }

    /// <summary>The machine's CPU time so far, summed over all cores (first line of /proc/stat).</summary>
    public static MachineCpu? Machine()
    {
        var line = TryRead("/proc/stat")?.Split('\n')[0];
        if (line is null || !line.StartsWith("cpu ", StringComparison.Ordinal))
        {
            return null;
        }

        // user nice system idle iowait irq softirq steal ...
        var v = line[4..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        var busy = v[0] + v[1] + v[2] + v[5] + v[6] + (v.Length > 7 ? v[7] : 0);
        return new MachineCpu(TimeSpan.FromSeconds(busy / TicksPerSecond), TimeSpan.FromSeconds(v[4] / TicksPerSecond));
    }

    /// <summary>The 1, 5 and 15 minute load averages, as /proc/loadavg has them.</summary>
    public static string? LoadAverage() => TryRead("/proc/loadavg") is { } text ? string.Join(' ', text.Split(' ').Take(3)) : null;

    public static string? TryRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

internal sealed record ProcessMemory(long ResidentBytes, long PeakResidentBytes);

/// <summary>CPU time the whole machine spent busy, and waiting for I/O, since boot.</summary>
internal sealed record MachineCpu(TimeSpan Busy, TimeSpan IoWait);

/// <summary>
/// Where the CPU went during one measured stretch: in cores (CPU seconds per wall second) for the
/// bench itself, the server (when its process is known), and everything else on the machine.
/// </summary>
internal sealed class CpuSampler
{
    private readonly int? _serverPid;
    private readonly long _start = System.Diagnostics.Stopwatch.GetTimestamp();
    private readonly TimeSpan? _bench;
    private readonly TimeSpan? _server;
    private readonly MachineCpu? _machine;
    private readonly string? _load;

    private CpuSampler(int? serverPid)
    {
        _serverPid = serverPid;
        _bench = ProcFs.ProcessCpu(Environment.ProcessId);
        _server = serverPid is { } pid ? ProcFs.ProcessCpu(pid) : null;
        _machine = ProcFs.Machine();
        _load = ProcFs.LoadAverage();
    }

    public static CpuSampler Start(int? serverPid) => new(serverPid);

    public CpuUsage Stop()
    {
        var wall = System.Diagnostics.Stopwatch.GetElapsedTime(_start).TotalSeconds;
        double? Cores(TimeSpan? before, TimeSpan? after) => before is { } b && after is { } a && wall > 0 ? (a - b).TotalSeconds / wall : null;

        var bench = Cores(_bench, ProcFs.ProcessCpu(Environment.ProcessId));
        var server = _serverPid is { } pid ? Cores(_server, ProcFs.ProcessCpu(pid)) : null;
        var machineNow = ProcFs.Machine();
        var busy = Cores(_machine?.Busy, machineNow?.Busy);
        var ioWait = Cores(_machine?.IoWait, machineNow?.IoWait);
        double? other = busy is { } total ? Math.Max(0, total - (bench ?? 0) - (server ?? 0)) : null;
        return new CpuUsage(bench, server, other, busy, ioWait, _load, ProcFs.LoadAverage());
    }
}

/// <param name="BenchCores">CPU the bench used, in cores (1.0 = one core busy all the time).</param>
/// <param name="ServerCores">CPU the server used, when the bench knows its process.</param>
/// <param name="OtherCores">CPU everything else on the machine used: other builds and benchmarks share it.</param>
/// <param name="MachineCores">All busy CPU on the machine.</param>
/// <param name="IoWaitCores">Idle CPU waiting for disk I/O.</param>
/// <param name="LoadBefore">/proc/loadavg before.</param>
/// <param name="LoadAfter">/proc/loadavg after.</param>
internal sealed record CpuUsage(double? BenchCores, double? ServerCores, double? OtherCores, double? MachineCores, double? IoWaitCores, string? LoadBefore, string? LoadAfter);
