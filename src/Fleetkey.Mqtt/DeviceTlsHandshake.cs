using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Fleetkey.Pki;
using Fleetkey.Services.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Fleetkey.Mqtt;

/// <summary>
/// The broker's side of the TLS handshake: its server certificate (issued by Fleetkey's CA at each
/// start for the public host, localhost and 127.0.0.1) and the two questions every client certificate
/// must answer before a byte of MQTT is read: does it chain to a CA Fleetkey trusts
/// (<see cref="ClientCertificateVerifier"/>), and may it connect at all (<see cref="CertificateAdmission"/>)?
/// </summary>
internal sealed partial class DeviceTlsHandshake(
    IOptions<MqttBrokerOptions> options,
    CertificateAuthority authority,
    ClientCertificateVerifier verifier,
    CertificateAdmission admission,
    BrokerMetrics metrics,
    ILogger<DeviceTlsHandshake> logger) : IDisposable
{
    private X509Certificate2? _serverCertificate;

    /// <summary>Issues the server certificate and returns the options every handshake uses.</summary>
    public SslServerAuthenticationOptions CreateOptions()
    {
        _serverCertificate = IssueServerCertificate(options.Value.PublicHost);
        var chainPolicy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
        };
        chainPolicy.CustomTrustStore.Add(authority.Root);
        chainPolicy.ExtraStore.Add(authority.Issuing);
        return new SslServerAuthenticationOptions
        {
            // Made once: the server's chain (its issuing CA sent along) and native TLS context serve every handshake.
            ServerCertificateContext = SslStreamCertificateContext.Create(_serverCertificate, [authority.Issuing], offline: true),
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

    public void Dispose() => _serverCertificate?.Dispose();

    private X509Certificate2 IssueServerCertificate(string publicHost)
    {
        var dnsNames = new List<string> { "localhost" };
        var addresses = new List<IPAddress> { IPAddress.Loopback };
        if (IPAddress.TryParse(publicHost, out var address))
        {
            if (!address.Equals(IPAddress.Loopback))
            {
                addresses.Add(address);
            }
        }
        else if (!string.Equals(publicHost, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            dnsNames.Insert(0, publicHost);
        }

        return authority.IssueServerCertificate(dnsNames, addresses, options.Value.ServerCertificateValidity);
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
}
