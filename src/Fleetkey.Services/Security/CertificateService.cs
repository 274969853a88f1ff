using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Paging;
using Fleetkey.Core.Registry;
using Fleetkey.Pki;
using Fleetkey.Services.Registry;
using Fleetkey.Storage;

namespace Fleetkey.Services.Security;

/// <summary>
/// Device certificates: issuing (new key or CSR), registering certificates made elsewhere, status
/// changes and deletion, with AWS IoT's rules. Signing happens before the database transaction so
/// the writer lock is never held during cryptography.
/// </summary>
public sealed class CertificateService(IFleetStore store, CertificateAuthority authority, TimeProvider time)
{
    public const string DefaultMode = "DEFAULT";

    /// <summary>Makes sure Fleetkey's issuing CA is known as a CA certificate (device certificates name it).</summary>
    public Task EnsureManagedCaAsync(CancellationToken cancellationToken) =>
        store.WriteAsync(async (session, ct) =>
        {
            if (await session.CaCertificates.GetAsync(authority.IssuingCertificateId, ct) is not null)
            {
                return false;
            }

            var now = time.GetUtcNow();
            var issuing = authority.Issuing;
            await session.CaCertificates.InsertAsync(
                new CaCertificate(
                    authority.IssuingCertificateId,
                    issuing.ExportCertificatePem(),
                    issuing.Subject,
                    CertificateStatus.Active,
                    "DISABLE",
                    Managed: true,
                    new DateTimeOffset(issuing.NotBefore.ToUniversalTime()),
                    new DateTimeOffset(issuing.NotAfter.ToUniversalTime()),
                    now,
                    now,
                    1,
                    Guid.NewGuid().ToString()),
                ct);
            return true;
        }, cancellationToken);

    public async Task<(Certificate Certificate, IssuedCertificate Issued)> CreateKeysAndCertificateAsync(bool setAsActive, CancellationToken cancellationToken)
    {
        var issued = await authority.IssueWithNewKeyAsync(cancellationToken);
        var certificate = await store.WriteAsync((session, ct) => InsertIssuedAsync(session, issued, setAsActive ? CertificateStatus.Active : CertificateStatus.Inactive, ct), cancellationToken);
        return (certificate, issued);
    }

    /// <summary>CreateCertificateFromCsr: an operator's CSR, whose subject the certificate keeps (see <see cref="SubjectFor"/>).</summary>
    public async Task<Certificate> CreateFromCsrAsync(string csrPem, bool setAsActive, CancellationToken cancellationToken)
    {
        var issued = IssueFromCsr(csrPem, CsrRequester.Operator);
        return await store.WriteAsync((session, ct) => InsertIssuedAsync(session, issued, setAsActive ? CertificateStatus.Active : CertificateStatus.Inactive, ct), cancellationToken);
    }

    /// <summary>
    /// The subject rule, in one place: who decides the subject of a certificate Fleetkey signs.
    /// <list type="bullet">
    /// <item>A CSR an <see cref="CsrRequester.Operator"/> sent (SigV4: CreateCertificateFromCsr, a
    /// RegisterThing template's CertificateSigningRequest) keeps its subject, as AWS keeps it: the operator
    /// may name any certificate anyway.</item>
    /// <item>A <see cref="CsrRequester.Device"/> names nothing: the certificate is <c>CN=</c> the thing it
    /// is issued to (the device endpoint: the thing its template makes, the serial number by default), or,
    /// when no thing is known yet (fleet provisioning's create-from-csr, before RegisterThing), the one
    /// fixed device subject. A device holds only its own secret or a claim certificate shared by a whole
    /// fleet; if it chose its subject, a policy keyed on <c>${iot:Certificate.Subject.*}</c> could be
    /// satisfied by another device.</item>
    /// </list>
    /// Whatever the requester, the CA copies nothing else from a CSR (no requested extension, no SAN).
    /// </summary>
    public static CertificateSubject SubjectFor(CsrRequester requester, string? thingName) => requester switch
    {
        CsrRequester.Operator => CertificateSubject.FromRequest,
        _ when thingName is not null => CertificateSubject.CommonName(thingName),
        _ => CertificateSubject.Device,
    };

    /// <summary>Signs a CSR under <see cref="SubjectFor"/>, turning PKI refusals into InvalidRequest with their reason.</summary>
    internal IssuedCertificate IssueFromCsr(string csrPem, CsrRequester requester, string? thingName = null)
    {
        try
        {
            return authority.IssueFromCsr(csrPem, SubjectFor(requester, thingName));
        }
        catch (PkiException exception)
        {
            throw new ServiceException(ErrorCode.InvalidRequest, $"The certificate signing request is not valid: {exception.Message}");
        }
    }

    /// <summary>
    /// A device's certificate for the thing it registers as (the device endpoint): from its CSR when it
    /// sent one, else with a key Fleetkey generates; either way named by <see cref="SubjectFor"/>.
    /// </summary>
    internal async Task<IssuedCertificate> IssueForThingAsync(string? csrPem, string thingName, CancellationToken cancellationToken) =>
        csrPem is null
            ? await authority.IssueWithNewKeyAsync(SubjectFor(CsrRequester.Device, thingName), cancellationToken)
            : IssueFromCsr(csrPem, CsrRequester.Device, thingName);

    /// <summary>The issuing CA then the root, PEM (what devices verify the server and their certificates with).</summary>
    public string ChainPem => authority.ChainPem;

    /// <summary>
    /// A certificate of Fleetkey's own CA (the issuing CA or the root) by certificate id, DER: what the
    /// "CA Issuers" address of the certificates it issues serves; null for any other id.
    /// </summary>
    public ReadOnlyMemory<byte>? FindOwnCaCertificate(string certificateId)
    {
        if (string.Equals(certificateId, authority.IssuingCertificateId, StringComparison.Ordinal))
        {
            return authority.Issuing.RawDataMemory;
        }

        // Not "cond ? memory : null": null would convert to an empty ReadOnlyMemory (through byte[]), not to no value.
        return string.Equals(certificateId, authority.RootCertificateId, StringComparison.Ordinal) ? authority.Root.RawDataMemory : default(ReadOnlyMemory<byte>?);
    }

    internal async Task<Certificate> InsertIssuedAsync(IStoreSession session, IssuedCertificate issued, string status, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var certificate = new Certificate(
            issued.CertificateId, authority.IssuingCertificateId, status, issued.CertificatePem, DefaultMode,
            issued.NotBefore, issued.NotAfter, now, now, 1, Guid.NewGuid().ToString(), issued.SerialNumber);
        await session.Certificates.InsertAsync(certificate, cancellationToken);
        return certificate;
    }

    /// <summary>RegisterCertificate: a certificate issued by a CA registered in Fleetkey.</summary>
    public Task<Certificate> RegisterAsync(string certificatePem, string? caCertificatePem, string? status, bool? setAsActive, CancellationToken cancellationToken)
    {
        var parsed = Parse(certificatePem);
        var wanted = RegistrationStatus(status, setAsActive);
        return store.WriteAsync((session, ct) => RegisterAsync(session, parsed, caCertificatePem, wanted, ct), cancellationToken);
    }

    internal async Task<Certificate> RegisterAsync(IStoreSession session, ParsedCertificate parsed, string? caCertificatePem, string status, CancellationToken cancellationToken)
    {
        var ca = await FindIssuerAsync(session, parsed, caCertificatePem, cancellationToken);
        if (ca.Status != CertificateStatus.Active)
        {
            throw new ServiceException(ErrorCode.CertificateState, $"The CA certificate {ca.CertificateId} is not active.");
        }

        // Device certificates inherit their CA's mode (DEFAULT or SNI_ONLY), as on AWS.
        return await InsertParsedAsync(session, parsed, ca.CertificateId, status, ca.Mode, cancellationToken);
    }

    /// <summary>RegisterCertificateWithoutCA: any well-formed certificate, no issuer check.</summary>
    public Task<Certificate> RegisterWithoutCaAsync(string certificatePem, string? status, CancellationToken cancellationToken)
    {
        var parsed = Parse(certificatePem);
        var wanted = RegistrationStatus(status, null);
        return store.WriteAsync((session, ct) => InsertParsedAsync(session, parsed, null, wanted, DefaultMode, ct), cancellationToken);
    }

    private async Task<Certificate> InsertParsedAsync(IStoreSession session, ParsedCertificate parsed, string? caCertificateId, string status, string mode, CancellationToken cancellationToken)
    {
        if (parsed.IsCertificateAuthority)
        {
            throw new ServiceException(ErrorCode.CertificateValidation, "A CA certificate cannot be registered as a device certificate.");
        }

        var now = time.GetUtcNow();
        var certificate = new Certificate(
            parsed.CertificateId, caCertificateId, status, parsed.CertificatePem, mode,
            parsed.NotBefore, parsed.NotAfter, now, now, 1, Guid.NewGuid().ToString(), parsed.SerialNumber);
        await session.Certificates.InsertAsync(certificate, cancellationToken);
        return certificate;
    }

    internal static ParsedCertificate Parse(string pem)
    {
        try
        {
            return CertificateInspector.Parse(pem);
        }
        catch (PkiException exception)
        {
            throw new ServiceException(ErrorCode.CertificateValidation, $"The certificate is not valid: {exception.Message}");
        }
    }

    private static async Task<CaCertificate> FindIssuerAsync(IStoreSession session, ParsedCertificate parsed, string? caCertificatePem, CancellationToken cancellationToken)
    {
        IEnumerable<CaCertificate> candidates;
        if (caCertificatePem is not null)
        {
            var ca = Parse(caCertificatePem);
            var registered = await session.CaCertificates.GetAsync(ca.CertificateId, cancellationToken)
                ?? throw new ServiceException(ErrorCode.CertificateValidation, "The CA certificate is not registered in Fleetkey.");
            candidates = [registered];
        }
        else
        {
            candidates = await session.CaCertificates.ListAsync(cancellationToken);
        }

        foreach (var candidate in candidates)
        {
            using var caCertificate = CertificateInspector.Parse(candidate.Pem).Certificate;
            if (CertificateInspector.IsIssuedBy(parsed.Certificate, caCertificate))
            {
                return candidate;
            }
        }

        throw new ServiceException(ErrorCode.CertificateValidation, "The certificate is not signed by a CA certificate registered in Fleetkey.");
    }

    private static string RegistrationStatus(string? status, bool? setAsActive)
    {
        var wanted = status ?? (setAsActive == true ? CertificateStatus.Active : CertificateStatus.Inactive);
        if (wanted is not (CertificateStatus.Active or CertificateStatus.Inactive or CertificateStatus.Revoked))
        {
            ThrowHelper.InvalidRequest($"A certificate cannot be registered with status {wanted}.");
        }

        return wanted;
    }

    public async Task<Certificate> DescribeAsync(string certificateId, CancellationToken cancellationToken) =>
        await FindAsync(certificateId, cancellationToken) ?? ThrowHelper.NotFound<Certificate>(NotFoundMessage(certificateId));

    /// <summary>The certificate, or null when the store has none with this id (the broker's TLS admission asks its status).</summary>
    public Task<Certificate?> FindAsync(string certificateId, CancellationToken cancellationToken) =>
        store.ReadAsync((session, ct) => session.Certificates.GetAsync(certificateId, ct), cancellationToken);

    public Task<Page<Certificate>> ListAsync(string? caCertificateId, bool ascending, PageRequest page, CancellationToken cancellationToken) =>
        store.ReadAsync(async (session, ct) =>
            Paging.ToPage(await session.Certificates.ListAsync(caCertificateId, ascending, page.After, page.Fetch, ct), page.Limit, PageKey), cancellationToken);

    private static string PageKey(Certificate certificate) => Paging.CreationKey(certificate.CreatedAt, certificate.CertificateId);

    public Task UpdateStatusAsync(string certificateId, string newStatus, CancellationToken cancellationToken)
    {
        if (newStatus is CertificateStatus.PendingTransfer or CertificateStatus.PendingActivation or CertificateStatus.RegisterInactive)
        {
            ThrowHelper.InvalidRequest($"The status {newStatus} is set by the service and cannot be requested.");
        }

        if (newStatus is not (CertificateStatus.Active or CertificateStatus.Inactive or CertificateStatus.Revoked))
        {
            ThrowHelper.InvalidRequest($"1 validation error detected: Value '{newStatus}' at 'newStatus' failed to satisfy constraint: Member must satisfy enum value set: [ACTIVE, INACTIVE, REVOKED]");
        }

        return store.WriteAsync(async (session, ct) =>
        {
            var certificate = await session.Certificates.GetAsync(certificateId, ct) ?? ThrowHelper.NotFound<Certificate>(NotFoundMessage(certificateId));
            await SetStatusAsync(session, certificate, newStatus, ct);
            return true;
        }, cancellationToken);
    }

    internal async Task SetStatusAsync(IStoreSession session, Certificate certificate, string newStatus, CancellationToken cancellationToken)
    {
        if (certificate.Status == newStatus)
        {
            return;
        }

        if (certificate.Status == CertificateStatus.Revoked)
        {
            throw new ServiceException(ErrorCode.CertificateState, $"Certificate {certificate.CertificateId} is revoked; a revoked certificate cannot change status.");
        }

        if (certificate.Status == CertificateStatus.PendingTransfer)
        {
            throw new ServiceException(ErrorCode.CertificateState, $"Certificate {certificate.CertificateId} is pending transfer.");
        }

        await session.Certificates.UpdateAsync(
            certificate with
            {
                Status = newStatus,
                LastModifiedAt = time.GetUtcNow(),
                CustomerVersion = certificate.CustomerVersion + 1,
                GenerationId = Guid.NewGuid().ToString(),
            },
            cancellationToken);
    }

    /// <summary>
    /// Deletes an inactive certificate attached to no thing. Its policies must be detached first,
    /// unless <paramref name="forceDelete"/>, which detaches them (AWS's forceDelete).
    /// </summary>
    public Task DeleteAsync(IotScope scope, string certificateId, bool forceDelete, CancellationToken cancellationToken) =>
        store.WriteAsync(async (session, ct) =>
        {
            var certificate = await session.Certificates.GetAsync(certificateId, ct) ?? ThrowHelper.NotFound<Certificate>(NotFoundMessage(certificateId));
            var arn = Arn.For(scope, ResourceKind.Certificate, certificateId);
            if (certificate.Status == CertificateStatus.Active)
            {
                throw new ServiceException(ErrorCode.CertificateState, "Certificate must be deactivated before deletion.");
            }

            if ((await session.ThingPrincipals.ListForPrincipalAsync(PolicyTarget.CertificateKind, certificateId, null, 1, ct)).Count > 0)
            {
                throw new ServiceException(ErrorCode.DeleteConflict, $"Things must be detached before deletion (arn: {arn})");
            }

            var target = new PolicyTarget(PolicyTarget.CertificateKind, certificateId);
            if (await session.Policies.CountAttachedAsync(target, ct) > 0)
            {
                if (!forceDelete)
                {
                    throw new ServiceException(ErrorCode.DeleteConflict, $"Certificate policies must be detached before deletion (arn: {arn})");
                }

                await session.Policies.DetachAllAsync(target, ct);
            }

            return await session.Certificates.DeleteAsync(certificateId, ct);
        }, cancellationToken);

    internal static string NotFoundMessage(string certificateId) => $"The certificate {certificateId} does not exist.";
}
