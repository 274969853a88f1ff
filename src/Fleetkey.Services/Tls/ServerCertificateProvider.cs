using Fleetkey.Pki;
using Microsoft.Extensions.Logging;

namespace Fleetkey.Services.Tls;

/// <summary>
/// The one TLS identity every listener presents (the control plane and device listeners when on
/// HTTPS, and the MQTT broker): read by each handshake from <see cref="Current"/>, replaced by
/// <see cref="Refresh"/> when it is due for renewal or its files changed, without a restart and without
/// disturbing connections already made.
/// </summary>
public sealed partial class ServerCertificateProvider
{
    private readonly IServerCertificateSource _source;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private ServerCertificate _current;

    private ServerCertificateProvider(IServerCertificateSource source, TimeProvider time, ILogger logger)
    {
        _source = source;
        _time = time;
        _logger = logger;
        _current = source.Load();
        LogLoaded(logger, _current.Origin, _current.Certificate.Subject, _current.NotAfter, _current.Thumbprint);
    }

    /// <summary>The identity for the next handshake.</summary>
    public ServerCertificate Current => Volatile.Read(ref _current);

    /// <summary>How often <see cref="Refresh"/> is worth calling.</summary>
    public TimeSpan CheckInterval => _source.CheckInterval;

    /// <summary>
    /// The operator's files when <see cref="ServerCertificateOptions.CertificatePath"/> is set, else a
    /// certificate from <paramref name="authority"/>; made (or read) now, so a bad file stops the start.
    /// </summary>
    /// <exception cref="InvalidOperationException">The files cannot be read or used; the message names them and why.</exception>
    public static ServerCertificateProvider Create(ServerCertificateOptions options, CertificateAuthority authority, TimeProvider time, ILogger<ServerCertificateProvider> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new ServerCertificateProvider(Source(options, authority), time, logger);
    }

    /// <summary>Reads the operator's files once, as the server would, and says what is wrong with them (throws).</summary>
    public static void CheckFiles(ServerCertificateOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.CertificatePath is { } certificate && options.KeyPath is { } key)
        {
            _ = new FileServerCertificateSource(certificate, key, options).Load();
        }
    }

    /// <summary>Replaces the identity when the source says it is stale; a replacement that fails keeps the current one.</summary>
    /// <returns>Whether the identity was replaced.</returns>
    public bool Refresh()
    {
        var current = Current;
        if (!_source.IsStale(current, _time.GetUtcNow()))
        {
            return false;
        }

        ServerCertificate next;
        try
        {
            next = _source.Load();
        }
        catch (Exception exception) when (exception is InvalidOperationException or PkiException or System.Security.Cryptography.CryptographicException)
        {
            LogReplacementFailed(_logger, current.Origin, exception.Message, current.NotAfter);
            return false;
        }

        Volatile.Write(ref _current, next);
        LogReplaced(_logger, next.Origin, next.Certificate.Subject, next.NotAfter, next.Thumbprint, current.Thumbprint);
        return true;
    }

    private static IServerCertificateSource Source(ServerCertificateOptions options, CertificateAuthority authority)
    {
        if (options.CertificatePath is null != options.KeyPath is null)
        {
            throw new ArgumentException("--tls-cert and --tls-key go together.", nameof(options));
        }

        return options.CertificatePath is { } certificate
            ? new FileServerCertificateSource(certificate, options.KeyPath!, options)
            : new IssuedServerCertificateSource(authority, options);
    }

    [LoggerMessage(EventId = 8101, EventName = "ServerCertificateLoaded", Level = LogLevel.Information, Message = "TLS server certificate {Origin}: {Subject}, valid until {NotAfter:u}, SHA-256 {Thumbprint}")]
    private static partial void LogLoaded(ILogger logger, string origin, string subject, DateTimeOffset notAfter, string thumbprint);

    [LoggerMessage(EventId = 8102, EventName = "ServerCertificateReplaced", Level = LogLevel.Information, Message = "TLS server certificate replaced, {Origin}: {Subject}, valid until {NotAfter:u}, SHA-256 {Thumbprint} (was {Previous})")]
    private static partial void LogReplaced(ILogger logger, string origin, string subject, DateTimeOffset notAfter, string thumbprint, string previous);

    [LoggerMessage(EventId = 8103, EventName = "ServerCertificateReplacementFailed", Level = LogLevel.Warning, Message = "TLS server certificate ({Origin}) not replaced: {Problem}; the current one stays, valid until {NotAfter:u}")]
    private static partial void LogReplacementFailed(ILogger logger, string origin, string problem, DateTimeOffset notAfter);
}
