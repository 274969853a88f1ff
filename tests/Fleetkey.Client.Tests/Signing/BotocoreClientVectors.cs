namespace Fleetkey.Client.Tests.Signing;

/// <summary>One call as a real botocore <c>iot</c> client made it: the request on the wire and its signature.</summary>
internal sealed record BotocoreVector(
    string Name,
    Func<IIotClient, Task> Call,
    string Method,
    string Path,
    string Query,
    string? Principal,
    string BodyBase64,
    string Authorization)
{
    public byte[] Body => Convert.FromBase64String(BodyBase64);
}

/// <summary>
/// Calls signed by botocore 1.43.11 (SigV4Auth, service <c>iot</c>, endpoint http://127.0.0.1:5080,
/// region eu-west-1), made by botocore_client_vectors.py and embedded here verbatim, each with the
/// same call through <see cref="IIotClient"/>.
/// </summary>
internal static class BotocoreClientVectors
{
    public const string AccessKeyId = "AKIAFLEETKEYCLIENT01";
    public const string Secret = "cLiEnT/Secret+Example0123456789abcdEFGH";
    public const string Region = "eu-west-1";
    public static readonly Uri Endpoint = new("http://127.0.0.1:5080");
    public static readonly DateTimeOffset SignedAt = new(2025, 6, 1, 8, 30, 15, TimeSpan.Zero);

    private const string CertificateArn = "arn:aws:iot:eu-west-1:000000000000:cert/abababababababababababababababababababababababababababababababab";

    public static readonly BotocoreVector[] All =
    [
        new(
            "ListThings",
            c => c.ListThingsAsync(new ListThingsRequest { AttributeName = "color", AttributeValue = "a b/c", MaxResults = 10, UsePrefixAttributeValue = true }),
            "GET", "/things", "attributeName=color&attributeValue=a%20b%2Fc&maxResults=10&usePrefixAttributeValue=true", null,
            "",
            "AWS4-HMAC-SHA256 Credential=AKIAFLEETKEYCLIENT01/20250601/eu-west-1/iot/aws4_request, SignedHeaders=host;x-amz-date, Signature=02ea7c12ef61e8debb8a9620e275504d2f12355eb6ecf8201fe30c63a75f5613"),
        new(
            "DescribeThing",
            c => c.DescribeThingAsync(new DescribeThingRequest { ThingName = "thing:1" }),
            "GET", "/things/thing%3A1", "", null,
            "",
            "AWS4-HMAC-SHA256 Credential=AKIAFLEETKEYCLIENT01/20250601/eu-west-1/iot/aws4_request, SignedHeaders=host;x-amz-date, Signature=83b3308f1194b2cd2875b097f16d9aa7f8b9b765d1729fa69a6a3fe37e435a04"),
        new(
            "DeleteThing",
            c => c.DeleteThingAsync(new DeleteThingRequest { ThingName = "old-thing", ExpectedVersion = 3 }),
            "DELETE", "/things/old-thing", "expectedVersion=3", null,
            "",
            "AWS4-HMAC-SHA256 Credential=AKIAFLEETKEYCLIENT01/20250601/eu-west-1/iot/aws4_request, SignedHeaders=host;x-amz-date, Signature=d85a94bc1f1e8838a9afa5ad1b1ec230676ffcaf951022384987fc8260de496d"),
        new(
            "AttachThingPrincipal",
            c => c.AttachThingPrincipalAsync(new AttachThingPrincipalRequest { ThingName = "thing-7", Principal = CertificateArn }),
            "PUT", "/things/thing-7/principals", "", "arn:aws:iot:eu-west-1:000000000000:cert/abababababababababababababababababababababababababababababababab",
            "",
            "AWS4-HMAC-SHA256 Credential=AKIAFLEETKEYCLIENT01/20250601/eu-west-1/iot/aws4_request, SignedHeaders=host;x-amz-date;x-amzn-principal, Signature=713d0c6750a5f809072cb6f1a31137a04ac7cce3ff76b249cb598a1d198b2385"),
        new(
            "ListPrincipalThings",
            c => c.ListPrincipalThingsAsync(new ListPrincipalThingsRequest { Principal = CertificateArn, MaxResults = 5 }),
            "GET", "/principals/things", "maxResults=5", "arn:aws:iot:eu-west-1:000000000000:cert/abababababababababababababababababababababababababababababababab",
            "",
            "AWS4-HMAC-SHA256 Credential=AKIAFLEETKEYCLIENT01/20250601/eu-west-1/iot/aws4_request, SignedHeaders=host;x-amz-date;x-amzn-principal, Signature=376c9e08c63f25d4b9da3e2fd3ebceb32aef7b25b8535cc2c27b8c44afd20cdf"),
        new(
            "ListAttachedPolicies",
            c => c.ListAttachedPoliciesAsync(new ListAttachedPoliciesRequest { Target = CertificateArn, Recursive = false, PageSize = 2 }),
            "POST", "/attached-policies/arn%3Aaws%3Aiot%3Aeu-west-1%3A000000000000%3Acert%2Fabababababababababababababababababababababababababababababababab", "recursive=false&pageSize=2", null,
            "",
            "AWS4-HMAC-SHA256 Credential=AKIAFLEETKEYCLIENT01/20250601/eu-west-1/iot/aws4_request, SignedHeaders=host;x-amz-date, Signature=669f6cf39e207232214f03d0183196de6cc8965c757f8f9c8de4afb174a55e3f"),
        new(
            "UpdateCertificate",
            c => c.UpdateCertificateAsync(new UpdateCertificateRequest { CertificateId = string.Concat(Enumerable.Repeat("cd", 32)), NewStatus = CertificateStatus.Inactive }),
            "PUT", "/certificates/cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd", "newStatus=INACTIVE", null,
            "",
            "AWS4-HMAC-SHA256 Credential=AKIAFLEETKEYCLIENT01/20250601/eu-west-1/iot/aws4_request, SignedHeaders=host;x-amz-date, Signature=9739ce097238aa16344aa8b6f196775f45ef27fd94433f0b4e19780b7985a4b3"),
        new(
            "CreateKeysAndCertificate",
            c => c.CreateKeysAndCertificateAsync(new CreateKeysAndCertificateRequest { SetAsActive = true }),
            "POST", "/keys-and-certificate", "setAsActive=true", null,
            "",
            "AWS4-HMAC-SHA256 Credential=AKIAFLEETKEYCLIENT01/20250601/eu-west-1/iot/aws4_request, SignedHeaders=host;x-amz-date, Signature=570480fb0a406dd587abca492a36f39595df65d7494d53a3a1ba1475af2dbeac"),
        new(
            "CreateThing",
            c => c.CreateThingAsync(new CreateThingRequest { ThingName = "thing:1", ThingTypeName = "NewDevice", AttributePayload = new AttributePayload { Attributes = new Dictionary<string, string> { ["serial"] = "SN 001/\u03b1" } } }),
            "POST", "/things/thing%3A1", "", null,
            "eyJ0aGluZ1R5cGVOYW1lIjogIk5ld0RldmljZSIsICJhdHRyaWJ1dGVQYXlsb2FkIjogeyJhdHRyaWJ1dGVzIjogeyJzZXJpYWwiOiAiU04gMDAxL1x1MDNiMSJ9fX0=",
            "AWS4-HMAC-SHA256 Credential=AKIAFLEETKEYCLIENT01/20250601/eu-west-1/iot/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=632657fa2f98d85e4f17176e75266067734e8b5c03d0efcdf75d0c2c087ff839"),
        new(
            "RegisterThing",
            c => c.RegisterThingAsync(new RegisterThingRequest { TemplateBody = """{"Resources":{}}""", Parameters = new Dictionary<string, string> { ["ThingName"] = "SN-1" } }),
            "POST", "/things", "", null,
            "eyJ0ZW1wbGF0ZUJvZHkiOiAie1wiUmVzb3VyY2VzXCI6e319IiwgInBhcmFtZXRlcnMiOiB7IlRoaW5nTmFtZSI6ICJTTi0xIn19",
            "AWS4-HMAC-SHA256 Credential=AKIAFLEETKEYCLIENT01/20250601/eu-west-1/iot/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=a32d7a8fc06ece6d9141a6ce5200525ec2e314ceec4e0056f181fec246d640da"),
    ];

    public static BotocoreVector Get(string name) => All.Single(v => v.Name == name);
}
