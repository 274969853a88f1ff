using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using Fleetkey.Client;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Oiw;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Ocsp;
using Org.BouncyCastle.X509;

namespace Fleetkey.Bench;

/// <summary>
/// OCSP as relying parties ask it: POST /ocsp on the device listener (the URL the certificates' AIA
/// names) for a random one of the certificates made before the run, every tenth of them REVOKED. The
/// requests are built with BouncyCastle beforehand (no nonce, SHA-1 CertID as openssl sends it); each
/// answer is read and its status checked against the certificate's (the signature is not verified: that
/// is the relying party's cost, not the server's).
/// </summary>
internal sealed class OcspScenario(BenchContext context) : Scenario(context), IDisposable
{
    private const int RevokedEvery = 10;

    private readonly List<(byte[] Request, bool Revoked)> _requests = [];
    private HttpClient? _http;
    private Uri? _responder;

    public override string Name => "ocsp";

    public override string Unit => "requests";

    public override string Description =>
        $"OCSP POST /ocsp for a random one of {Count:N0} certificates (every {RevokedEvery}th REVOKED), answer status checked";

    private int Count => Context.Options.Quick ? Math.Min(200, Context.Options.Things) : Context.Options.Things;

    public override async Task PrepareAsync(BenchProgress progress, CancellationToken cancellationToken)
    {
        var phase = progress.Begin($"{Name}: making {Count:N0} certificates", Count);
        var made = new (string Id, X509Certificate2 Certificate)[Count];
        var done = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, Count), new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var csr = Context.Csrs[i % Context.Csrs.Count];
            var response = await Context.Client.Iot.CreateCertificateFromCsrAsync(new CreateCertificateFromCsrRequest { CertificateSigningRequest = csr.Pem, SetAsActive = true }, ct);
            if (i % RevokedEvery == 0)
            {
                await Context.Client.Iot.UpdateCertificateAsync(new UpdateCertificateRequest { CertificateId = response.CertificateId!, NewStatus = "REVOKED" }, ct);
            }

            made[i] = (response.CertificateId!, X509Certificate2.CreateFromPem(response.CertificatePem!));
            var count = Interlocked.Increment(ref done);
            phase.Report(count, $"{count:N0} of {Count:N0}");
        });

        // The responder and the issuer, as a relying party finds them: in the certificate's AIA.
        var access = made[0].Certificate.Extensions.OfType<X509AuthorityInformationAccessExtension>().SingleOrDefault()
            ?? throw new InvalidOperationException("The certificates carry no Authority Information Access: the server names no OCSP responder.");
        _responder = new Uri(access.EnumerateOcspUris().Single());
        _http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Math.Max(Context.Options.Concurrency, 1), UseProxy = false, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
        {
            Timeout = Context.Options.RequestTimeout,
        };
        var issuerDer = await _http.GetByteArrayAsync(access.EnumerateCAIssuersUris().Single(), cancellationToken);
        var issuer = new X509CertificateParser().ReadCertificate(issuerDer);
        var sha1 = new AlgorithmIdentifier(OiwObjectIdentifiers.IdSha1, DerNull.Instance);
        for (var i = 0; i < made.Length; i++)
        {
            var generator = new OcspReqGenerator();
            generator.AddRequest(new CertificateID(sha1, issuer, new Org.BouncyCastle.Math.BigInteger(1, made[i].Certificate.SerialNumberBytes.ToArray())));
            _requests.Add((generator.Generate().GetEncoded(), i % RevokedEvery == 0));
            made[i].Certificate.Dispose();
        }

        phase.Complete($"{Count:N0} certificates, responder {_responder}");
    }

    public override async ValueTask<bool> RunOnceAsync(long sequence, CancellationToken cancellationToken)
    {
        var (request, revoked) = _requests[Random.Shared.Next(_requests.Count)];
        using var content = new ByteArrayContent(request);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/ocsp-request");
        using var response = await _http!.PostAsync(_responder, content, cancellationToken);
        response.EnsureSuccessStatusCode();
        var answer = new OcspResp(await response.Content.ReadAsByteArrayAsync(cancellationToken));
        if (answer.Status != OcspRespStatus.Successful)
        {
            throw new InvalidOperationException($"The OCSP responder answered status {answer.Status}.");
        }

        var status = ((BasicOcspResp)answer.GetResponseObject()).Responses.Single().GetCertStatus();
        return (status is RevokedStatus) == revoked && (revoked || status is null)
            ? true
            : throw new InvalidOperationException($"The OCSP responder answered {status?.GetType().Name ?? "good"} for a certificate that is {(revoked ? "REVOKED" : "ACTIVE")}.");
    }

    public override ValueTask ReleaseAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    public void Dispose() => _http?.Dispose();
}
