using System.Globalization;
using System.Runtime.InteropServices;

namespace Fleetkey.Bench;

/// <summary>The machine the numbers were measured on, as a reader of BENCHMARKS.md needs it.</summary>
internal sealed record MachineInfo(string Cpu, int Cores, long MemoryBytes, string Os, string Kernel, string Runtime, bool ServerGc, string? LoadAverage)
{
    public static MachineInfo Read()
    {
        var cpu = ProcFs.TryRead("/proc/cpuinfo")?.Split('\n')
            .FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim();
        var memoryLine = ProcFs.TryRead("/proc/meminfo")?.Split('\n').FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        var memory = memoryLine is null
            ? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes
            : long.Parse(memoryLine["MemTotal:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        var os = ProcFs.TryRead("/etc/os-release")?.Split('\n')
            .FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?["PRETTY_NAME=".Length..].Trim('"');
        return new MachineInfo(
            cpu ?? RuntimeInformation.ProcessArchitecture.ToString(),
            Environment.ProcessorCount,
            memory,
            os ?? RuntimeInformation.OSDescription,
            ProcFs.TryRead("/proc/sys/kernel/osrelease") is { } kernel ? "Linux " + kernel.Trim() : RuntimeInformation.OSDescription,
            RuntimeInformation.FrameworkDescription,
            System.Runtime.GCSettings.IsServerGC,
            ProcFs.LoadAverage());
    }

    public string Summary() => string.Create(
        CultureInfo.InvariantCulture,
        $"{Cpu}, {Cores} cores, {MemoryBytes / (1024.0 * 1024 * 1024):F1} GiB RAM, {Os} ({Kernel}), {Runtime}");
}
