using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Fleetkey.Pki;
using Fleetkey.Services.Security;
using Fleetkey.Services.Tls;
using Microsoft.Extensions.Logging;

namespace Fleetkey.Mqtt;

/// <summary>
/// The broker's side of the TLS handshake: the listeners' server certificate (from the one
/// <see cref="ServerCertificateProvider"/>, renewed or reloaded without a restart) and the two questions
/// every client certificate must answer before a byte of MQTT is read: does it chain to a CA Fleetkey
/// trusts (<see cref="ClientCertificateVerifier"/>), and may it connect at all (<see cref="CertificateAdmission"/>)?
/// </summary>
internal sealed partial class DeviceTlsHandshake(
    ServerCertificateProvider serverCertificates,
    CertificateAuthority authority,
    ClientCertificateVerifier verifier,
    CertificateAdmission admission,
    BrokerMetrics metrics,
    ILogger<DeviceTlsHandshake> logger)
{
    private Entry? _cached;

    /// <summary>The options for the next handshake: made once per server identity, so a renewal takes effect at the next connection.</summary>
    public SslServerAuthenticationOptions Options()
    {
        var identity = serverCertificates.Current;
        var cached = Volatile.Read(ref _cached);
        if (cached is null || !ReferenceEquals(cached.Identity, identity))
        {
            // A race makes the same options twice; either serves.
            cached = new Entry(identity, Create(identity));
            Volatile.Write(ref _cached, cached);
        }

        return cached.Options;
    }

    private SslServerAuthenticationOptions Create(ServerCertificate identity)
    {
        var chainPolicy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
        };
        chainPolicy.CustomTrustStore.Add(authority.Root);
        chainPolicy.ExtraStore.Add(authority.Issuing);
        return new SslServerAuthenticationOptions
        {
            // Made once per identity: the server's chain and native TLS context serve every handshake.
            ServerCertificateContext = identity.Context,
            ClientCertificateRequired = true,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,

            // SslStream checks the client's chain before the callback; anchored in Fleetkey's root it does not search the system's stores.
            CertificateChainPolicy = chainPolicy,
            RemoteCertificateValidationCallback = ValidateClientCertificate,

            // No resumed sessions: every connection presents its certificate and gets it checked (a CA or a
            // certificate set INACTIVE is refused at the next handshake), as when each handshake had its own context.
            AllowTlsResume = false,
        };
    }

    // The client certificate must chain to Fleetkey's root through its issuing CA, or be signed by a CA
    // registered by its owner and ACTIVE (the device may send that CA in its chain or not); a certificate
    // from anyone else (self-signed included) fails the handshake, as on AWS IoT. Then its status: see CertificateAdmission.
    private bool ValidateClientCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null)
        {
            metrics.Refused("no_certificate");
            return false;
        }

        // The certificate belongs to the TLS stream (MQTTnet hands it to the CONNECT check): never dispose it.
        var owned = certificate as X509Certificate2 is null ? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()) : null;
        using var disposeOwned = owned;
        var presented = owned ?? (X509Certificate2)certificate;
        if (!verifier.IsTrusted(presented))
        {
            metrics.Refused("untrusted_certificate");
            var untrusted = DeviceAuthorizationService.CertificateId(presented);
            LogUntrusted(logger, untrusted);
            return false;
        }

        string? refusal;
        try
        {
            refusal = admission.Refusal(presented);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // Fail closed: without the store, no certificate is admitted (the device retries).
            var failed = DeviceAuthorizationService.CertificateId(presented);
            LogAdmissionFailed(logger, exception, failed);
            refusal = "error";
        }

        if (refusal is not null)
        {
            metrics.Refused(refusal);
            var refused = DeviceAuthorizationService.CertificateId(presented);
            LogNotAdmitted(logger, refused, refusal);
            return false;
        }

        return true;
    }

    [LoggerMessage(EventId = 8001, EventName = "MqttUntrustedCertificate", Level = LogLevel.Information, Message = "TLS client certificate {CertificateId} does not chain to Fleetkey's CA")]
    private static partial void LogUntrusted(ILogger logger, string certificateId);

    [LoggerMessage(EventId = 8010, EventName = "MqttCertificateNotAdmitted", Level = LogLevel.Information, Message = "TLS client certificate {CertificateId} refused in the handshake: {Reason}")]
    private static partial void LogNotAdmitted(ILogger logger, string certificateId, string reason);

    [LoggerMessage(EventId = 8011, EventName = "MqttAdmissionFailed", Level = LogLevel.Error, Message = "Reading the status of TLS client certificate {CertificateId} failed; the handshake is refused")]
    private static partial void LogAdmissionFailed(ILogger logger, Exception exception, string certificateId);

    private sealed record Entry(ServerCertificate Identity, SslServerAuthenticationOptions Options);
}
