using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Fleetkey.Testing;
using Xunit;

namespace Fleetkey.Api.Tests.Endpoints;

/// <summary>Certificates, principals, policies and RegisterThing through the in-process control plane.</summary>
public sealed class SecurityEndpointsTests : IAsyncLifetime
{
    private FleetkeyTestHost _host = null!;

    public async Task InitializeAsync() => _host = await FleetkeyTestHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task CaPem_Unsigned_ServesTheChainThatSignsDeviceCertificates()
    {
        using var response = await _host.Anonymous.GetAsync("/ca.pem");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var chain = new X509Certificate2Collection();
        chain.ImportFromPem(await response.Content.ReadAsStringAsync());

        var created = (await _host.SendAsync(HttpMethod.Post, "/keys-and-certificate?setAsActive=true")).EnsureOk().Body!;
        using var device = X509Certificate2.CreateFromPem(created["certificatePem"]!.GetValue<string>());

        Assert.Equal(2, chain.Count);
        using var verifier = new X509Chain();
        verifier.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        verifier.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        verifier.ChainPolicy.CustomTrustStore.AddRange(chain);
        Assert.True(verifier.Build(device), string.Join(", ", verifier.ChainStatus.Select(s => s.StatusInformation)));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(device.RawData)), created["certificateId"]!.GetValue<string>());
    }

    [Fact]
    public async Task CreateKeysAndCertificate_KeyPairMatchesCertificate()
    {
        var created = (await _host.SendAsync(HttpMethod.Post, "/keys-and-certificate")).EnsureOk().Body!;
        var pem = created["certificatePem"]!.GetValue<string>();
        var privateKey = created["keyPair"]!["PrivateKey"]!.GetValue<string>();

        using var withKey = X509Certificate2.CreateFromPem(pem, privateKey);

        Assert.True(withKey.HasPrivateKey);
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", created["keyPair"]!["PublicKey"]!.GetValue<string>(), StringComparison.Ordinal);
        var described = (await _host.SendAsync(HttpMethod.Get, "/certificates/" + created["certificateId"]!.GetValue<string>())).EnsureOk().Body!;
        Assert.Equal("INACTIVE", described["certificateDescription"]!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task DeleteCertificate_ActiveThenAttachedThenForced_FollowsAwsRules()
    {
        var created = (await _host.SendAsync(HttpMethod.Post, "/keys-and-certificate?setAsActive=true")).EnsureOk().Body!;
        var id = created["certificateId"]!.GetValue<string>();
        var arn = created["certificateArn"]!.GetValue<string>();
        (await _host.SendAsync(HttpMethod.Post, "/policies/p-delete", new { policyDocument = """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}]}""" })).EnsureOk();
        (await _host.SendAsync(HttpMethod.Put, "/target-policies/p-delete", new { target = arn })).EnsureOk();

        var active = await _host.SendAsync(HttpMethod.Delete, $"/certificates/{id}");
        (await _host.SendAsync(HttpMethod.Put, $"/certificates/{id}?newStatus=INACTIVE")).EnsureOk();
        var attached = await _host.SendAsync(HttpMethod.Delete, $"/certificates/{id}");
        var forced = await _host.SendAsync(HttpMethod.Delete, $"/certificates/{id}?forceDelete=true");

        Assert.Equal((406, "CertificateStateException"), (active.Status, active.ErrorType));
        Assert.Equal((409, "DeleteConflictException"), (attached.Status, attached.ErrorType));
        Assert.Equal(200, forced.Status);
        Assert.Equal(404, (await _host.SendAsync(HttpMethod.Get, $"/certificates/{id}")).Status);
        (await _host.SendAsync(HttpMethod.Delete, "/policies/p-delete")).EnsureOk();
    }

    [Fact]
    public async Task RegisterThing_TemplateErrors_ListEveryPathAndWriteNothing()
    {
        var template = """
            {"Parameters": {"Name": {"Type": "String"}},
             "Resources": {
               "thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Ref": "Name"}, "ThingGroups": [{"Ref": "Missing"}]}},
               "other": {"Type": "AWS::IoT::Bucket", "Properties": {}}}}
            """;

        var response = await _host.SendAsync(HttpMethod.Post, "/things", new { templateBody = template, parameters = new { Name = "never-made" } });

        Assert.Equal((400, "InvalidRequestException"), (response.Status, response.ErrorType));
        Assert.Contains("Resources.thing.Properties.ThingGroups[0]", response.Message, StringComparison.Ordinal);
        Assert.Contains("Resources.other", response.Message, StringComparison.Ordinal);
        Assert.Equal(404, (await _host.SendAsync(HttpMethod.Get, "/things/never-made")).Status);
    }
}
