using System.Diagnostics.Metrics;
using Fleetkey.Services.Hosting;
using Microsoft.Extensions.Logging;

namespace Fleetkey.Services.Security;

/// <summary>
/// Counts ACTIVE certificates by expiry at start and then every <see cref="RefreshPeriod"/> and
/// serves the last counts as gauges on Fleetkey's meter: <c>fleetkey.certificates.expiring</c> by
/// <c>within</c> (<see cref="Windows"/>) and <c>fleetkey.certificates.expired</c>. A scrape reads the cached
/// counts and never queries the store; until the first count completes the gauges report nothing rather
/// than a zero an alert would take for "all well". A failed count keeps the last one and is reported.
/// </summary>
internal sealed partial class CertificateExpiryMonitor : PeriodicMaintenance
{
    public static readonly TimeSpan RefreshPeriod = TimeSpan.FromMinutes(1);

    /// <summary>The windows the gauge reports, shortest first.</summary>
    public static readonly IReadOnlyList<ExpiryWindow> Windows = [ExpiryWindow.SevenDays, ExpiryWindow.ThirtyDays];

    private readonly CertificateExpiryService _expiry;
    private readonly ILogger<CertificateExpiryMonitor> _logger;
    private TaskCompletionSource _nextRefresh = NewSignal();
    private ExpiryCounts? _counts;

    public CertificateExpiryMonitor(CertificateExpiryService expiry, TimeProvider time, ILogger<CertificateExpiryMonitor> logger, Meter? meter = null)
        : base(RefreshPeriod, time)
    {
        _expiry = expiry;
        _logger = logger;
        meter?.CreateObservableGauge(
            "fleetkey.certificates.expiring",
            ExpiringMeasurements,
            "{certificate}",
            "ACTIVE certificates whose validity ends within the window (label within) and has not ended yet; counted once a minute.");
        meter?.CreateObservableGauge(
            "fleetkey.certificates.expired",
            ExpiredMeasurements,
            "{certificate}",
            "ACTIVE certificates whose validity has ended (devices holding them cannot connect); counted once a minute.");
    }

    /// <summary>The last counts; null until the first count completes.</summary>
    public ExpiryCounts? Counts => Volatile.Read(ref _counts);

    /// <summary>Completes when the next count has been taken (or has failed); for tests and tools that wait on it.</summary>
    public Task NextRefresh => Volatile.Read(ref _nextRefresh).Task;

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        try
        {
            Volatile.Write(ref _counts, await _expiry.CountActiveAsync(Windows, cancellationToken));
        }
        finally
        {
            Interlocked.Exchange(ref _nextRefresh, NewSignal()).TrySetResult();
        }
    }

    protected override void OnFailed(Exception exception) => LogCountFailed(_logger, exception);

    private IEnumerable<Measurement<long>> ExpiringMeasurements() =>
        Counts is { } counts
            ? counts.Expiring.Select(c => new Measurement<long>(c.Count, new KeyValuePair<string, object?>("within", c.Window.Text)))
            : [];

    private IEnumerable<Measurement<long>> ExpiredMeasurements() =>
        Counts is { } counts ? [new Measurement<long>(counts.Expired)] : [];

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(EventId = 330, EventName = "CertificateExpiryCountFailed", Level = LogLevel.Warning, Message = "Counting certificates by expiry failed; the expiry gauges keep the last count until the next minute")]
    private static partial void LogCountFailed(ILogger logger, Exception exception);
}
