using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Fleetkey.Client;

namespace Fleetkey.Bench;

/// <summary>
/// What the load generator itself costs: each scenario's calls made by Fleetkey.Client against a
/// handler that answers at once with a canned body of the real shape (no sockets, no server), on
/// every core. The client builds and signs every request (SigV4) and deserializes every answer,
/// as in the scenario; the scenario adds the HTTP stack and loopback sockets. Subtracted from the
/// bench's measured CPU per operation, it tells the client library's share from the HTTP stack's.
/// </summary>
internal static class ClientCeilings
{
    private const string Arn = "arn:aws:iot:us-east-1:000000000000:";

    /// <summary>The client-only ceiling of <paramref name="scenario"/>: seed-register-provisioner shares seed-register's, as it makes the same calls (signed with another key, at the same cost).</summary>
    public static string NameOf(string scenario) => "client only: " + CallsOf(scenario);

    public static string Explain(string name) =>
        $"Fleetkey.Client making the {name["client only: ".Length..]} scenario's calls against canned answers, no network: the load generator's own cost";

    public static async Task<IReadOnlyList<CeilingResult>> MeasureAsync(
        IReadOnlyList<string> scenarios, IReadOnlyList<PreparedCsr> csrs, TimeSpan duration, int? serverPid, BenchProgress progress, CancellationToken cancellationToken)
    {
        var answers = CannedAnswers.Create();
        var results = new List<CeilingResult>();
        foreach (var scenario in scenarios.Select(CallsOf).Distinct())
        {
            Func<BenchClient, int, Task>? call = scenario switch
            {
                "seed-register" => (client, i) => client.Registrar.RegisterThingAsync(RegistryFiller.ThingName(i)),
                "seed-unregister" => (client, i) => client.Registrar.UnregisterThingAsync(RegistryFiller.ThingName(i)),
                "csr" => (client, i) => client.Iot.CreateCertificateFromCsrAsync(new CreateCertificateFromCsrRequest { CertificateSigningRequest = csrs[i % csrs.Count].Pem, SetAsActive = true }),
                "describe" => (client, i) => client.Iot.DescribeThingAsync(new DescribeThingRequest { ThingName = RegistryFiller.ThingName(i % 1_000_000) }),
                "list" => (client, i) => client.Iot.ListThingsAsync(new ListThingsRequest { MaxResults = 100, NextToken = TokenShaped(RegistryFiller.ThingName(i % 1_000_000)) }),
                _ => null, // the MQTT scenarios: their client is MQTTnet's, measured with the handshake ceiling; ocsp: no Fleetkey.Client call
            };
            if (call is null)
            {
                continue;
            }

            results.Add(await CeilingMeter.MeasureAsync(
                NameOf(scenario),
                duration,
                serverPid,
                () =>
                {
                    var client = new BenchClient(new CannedHandler(answers), new AccessKey("AKIACLIENTONLYCEILING", "client-only-ceiling-not-a-server-secret"), "us-east-1");
                    return (i => call(client, i).GetAwaiter().GetResult(), client);
                },
                progress,
                cancellationToken));
        }

        return results;
    }

    private static string CallsOf(string scenario) => scenario == "seed-register-provisioner" ? "seed-register" : scenario;

    /// <summary>Answers every request with 200 and the body its operation returns, synchronously.</summary>
    private sealed class CannedHandler(CannedAnswers answers) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var content = new ByteArrayContent(answers.For(request.Method, request.RequestUri!.AbsolutePath));
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = content, RequestMessage = request });
        }
    }

    /// <summary>Answers of the sizes and shapes the server returns: a real certificate and key pair, a page of 100 things.</summary>
    private sealed record CannedAnswers(byte[] Keys, byte[] Register, byte[] Principals, byte[] Certificate, byte[] Thing, byte[] Page, byte[] Empty)
    {
        public byte[] For(HttpMethod method, string path) => path switch
        {
            "/keys-and-certificate" => Keys,
            "/things" when method == HttpMethod.Post => Register,
            "/things" => Page,
            "/certificates" => Certificate,
            _ when path.EndsWith("/principals", StringComparison.Ordinal) && method == HttpMethod.Get => Principals,
            _ when path.StartsWith("/things/", StringComparison.Ordinal) && method == HttpMethod.Get => Thing,
            _ => Empty,
        };

        public static CannedAnswers Create()
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=AWS IoT Certificate", key, HashAlgorithmName.SHA256);
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(20));
            var pem = certificate.ExportCertificatePem() + "\n";
            var id = Convert.ToHexStringLower(SHA256.HashData(certificate.RawData));
            var name = RegistryFiller.ThingName(1);

            byte[] Json(JsonNode node) => Encoding.UTF8.GetBytes(node.ToJsonString());
            JsonObject Attributes(int i) => new() { ["serial"] = RegistryFiller.Serial(i), ["site"] = RegistryFiller.Site(i) };
            return new CannedAnswers(
                Json(new JsonObject
                {
                    ["certificateArn"] = Arn + "cert/" + id,
                    ["certificateId"] = id,
                    ["certificatePem"] = pem,
                    ["keyPair"] = new JsonObject { ["PublicKey"] = key.ExportSubjectPublicKeyInfoPem() + "\n", ["PrivateKey"] = key.ExportECPrivateKeyPem() + "\n" },
                }),
                Json(new JsonObject
                {
                    ["certificatePem"] = pem,
                    ["resourceArns"] = new JsonObject { ["thing"] = Arn + "thing/" + name, ["certificate"] = Arn + "cert/" + id, ["policy"] = Arn + "policy/DefaultNewDevicePolicy" },
                }),
                Json(new JsonObject { ["principals"] = new JsonArray(Arn + "cert/" + id) }),
                Json(new JsonObject { ["certificateArn"] = Arn + "cert/" + id, ["certificateId"] = id, ["certificatePem"] = pem }),
                Json(new JsonObject
                {
                    ["defaultClientId"] = name, ["thingName"] = name, ["thingId"] = Guid.NewGuid().ToString(), ["thingArn"] = Arn + "thing/" + name,
                    ["attributes"] = Attributes(1), ["version"] = 1,
                }),
                Json(new JsonObject
                {
                    ["things"] = new JsonArray(Enumerable.Range(0, 100).Select(i => (JsonNode)new JsonObject
                    {
                        ["thingName"] = RegistryFiller.ThingName(i), ["thingArn"] = Arn + "thing/" + RegistryFiller.ThingName(i),
                        ["thingTypeName"] = i % 10 == 0 ? RegistryFiller.TypeName : null, ["attributes"] = Attributes(i), ["version"] = 1,
                    }).ToArray()),
                    ["nextToken"] = TokenShaped(RegistryFiller.ThingName(99)),
                }),
                "{}"u8.ToArray());
        }
    }

    // The client never looks inside a token: one of a real token's shape and length (17 bytes and the key, base64).
    private static string TokenShaped(string key) => Convert.ToBase64String([.. new byte[17], .. System.Text.Encoding.UTF8.GetBytes(key)]);
}
