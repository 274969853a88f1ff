using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Fleetkey.Pki;
using Fleetkey.Services.Security;

namespace Fleetkey.Mqtt;

/// <summary>
/// The TLS handshake's question about a device certificate: does it chain to Fleetkey's root through
/// its issuing CA, or was it signed by a CA registered by its owner and ACTIVE? Building that answer
/// (an X509Chain, or a signature check against each registered CA) costs about as much as the rest of
/// the server's handshake, and a device asks it on every connection with the same certificate, so a
/// yes is remembered by the SHA-256 of the certificate's DER.
/// </summary>
/// <remarks>
/// A remembered yes holds only while what it was decided against is unchanged — the same issuing CA
/// instance for Fleetkey's chain, the same snapshot of registered ACTIVE CAs (a new one after any CA
/// change) for a registered CA — and only within the validity of the certificate and of the CAs it
/// chains to. A no is never remembered (an untrusted client pays for its own check), and the cache is
/// bounded: when full it starts over.
/// </remarks>
internal sealed class ClientCertificateVerifier(CertificateAuthority authority, RegisteredCaTrust registered, TimeProvider time)
{
    /// <summary>Remembered certificates at most; a fleet that connects more distinct ones than this verifies some again.</summary>
    internal const int Capacity = 100_000;

    private readonly ConcurrentDictionary<string, Verdict> _trusted = new(StringComparer.Ordinal);

    // Anchor: what the verdict was decided against (authority.Issuing, or registered.Active); it holds
    // while that is the same instance. Valid from/until: the intersection of the validity periods.
    private sealed record Verdict(object Anchor, DateTime ValidFrom, DateTime ValidUntil);

    /// <summary>Certificates remembered now (for tests and diagnostics).</summary>
    internal int Count => _trusted.Count;

    public bool IsTrusted(X509Certificate2 certificate)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var key = Convert.ToHexString(certificate.GetCertHash(HashAlgorithmName.SHA256));
        if (_trusted.TryGetValue(key, out var known))
        {
            if (now >= known.ValidFrom && now <= known.ValidUntil
                && (ReferenceEquals(known.Anchor, authority.Issuing) || ReferenceEquals(known.Anchor, registered.Active)))
            {
                return true;
            }

            _trusted.TryRemove(KeyValuePair.Create(key, known));
        }

        var verdict = Verify(certificate, now);
        if (verdict is null)
        {
            return false;
        }

        if (_trusted.Count >= Capacity)
        {
            _trusted.Clear();
        }

        _trusted[key] = verdict;
        return true;
    }

    private Verdict? Verify(X509Certificate2 certificate, DateTime now)
    {
        // Read the anchors before deciding: a snapshot replaced meanwhile leaves the verdict stale, never wrongly fresh.
        var issuing = authority.Issuing;
        var active = registered.Active;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority.Root);
        chain.ChainPolicy.ExtraStore.Add(issuing);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = now;
        try
        {
            if (chain.Build(certificate))
            {
                var from = certificate.NotBefore.ToUniversalTime();
                var until = certificate.NotAfter.ToUniversalTime();
                foreach (var element in chain.ChainElements)
                {
                    from = Later(from, element.Certificate.NotBefore.ToUniversalTime());
                    until = Earlier(until, element.Certificate.NotAfter.ToUniversalTime());
                }

                return new Verdict(issuing, from, until);
            }
        }
        finally
        {
            foreach (var element in chain.ChainElements)
            {
                if (!ReferenceEquals(element.Certificate, certificate))
                {
                    element.Certificate.Dispose();
                }
            }
        }

        return registered.FindIssuer(certificate) is { } ca
            ? new Verdict(
                active,
                Later(certificate.NotBefore.ToUniversalTime(), ca.Certificate.NotBefore.ToUniversalTime()),
                Earlier(certificate.NotAfter.ToUniversalTime(), ca.Certificate.NotAfter.ToUniversalTime()))
            : null;
    }

    private static DateTime Later(DateTime a, DateTime b) => a > b ? a : b;

    private static DateTime Earlier(DateTime a, DateTime b) => a < b ? a : b;
}
