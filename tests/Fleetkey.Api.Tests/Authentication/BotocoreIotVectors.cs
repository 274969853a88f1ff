using Fleetkey.Api.Authentication;

namespace Fleetkey.Api.Tests.Authentication;

/// <summary>One request as a real botocore <c>iot</c> client put it on the wire.</summary>
internal sealed record BotocoreVector(
    string Name,
    string Region,
    string Method,
    string Path,
    string Query,
    (string Name, string Value)[] Headers,
    string BodyBase64)
{
    public byte[] Body => Convert.FromBase64String(BodyBase64);

    public SigV4Request ToRequest() => SigV4TestRequests.Create(Method, Path, Query, Headers, Body);
}

/// <summary>
/// Requests signed by botocore 1.43.11 (SigV4Auth, service <c>iot</c>, endpoint
/// http://127.0.0.1:5080), generated once by botocore_iot_vectors.py and embedded here verbatim.
/// They pin the double encoding of non-S3 services: botocore sends <c>/things/thing%3A1</c> and
/// signs <c>/things/thing%253A1</c>.
/// </summary>
internal static class BotocoreIotVectors
{
    public const string AccessKeyId = "AKIAFLEETKEYTEST0001";
    public const string Secret = "fLeEtKeY/Secret+Example0123456789abcdEFGH";
    public const string AmzDate = "20250314T150926Z";
    public static readonly DateTimeOffset SignedAt = new(2025, 3, 14, 15, 9, 26, TimeSpan.Zero);

    private const string UserAgent =
        "Botocore/1.43.11 ua/2.1 os/linux#6.18.44-fc-v782 md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython m/N,e,Z,b,D cfg/retry-mode#legacy";

    public static readonly BotocoreVector ListThingsWithEncodedQuery = new(
        "ListThingsWithEncodedQuery", "us-east-1", "GET", "/things",
        "attributeName=color&attributeValue=a%20b%2Fc&maxResults=10",
        [
            ("Host", "127.0.0.1:5080"),
            ("User-Agent", UserAgent),
            ("X-Amz-Date", AmzDate),
            ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAFLEETKEYTEST0001/20250314/us-east-1/iot/aws4_request, SignedHeaders=host;x-amz-date, Signature=0914de4033f7654059ec3ff4847e67e954b191de564194d49f67a71cbff03c76"),
            ("amz-sdk-invocation-id", "0ca41b6d-1474-4d90-b878-9ea4159115f9"),
            ("amz-sdk-request", "attempt=1"),
        ],
        "");

    public static readonly BotocoreVector DescribeThingWithColonInLabel = new(
        "DescribeThingWithColonInLabel", "eu-central-1", "GET", "/things/thing%3A1", "",
        [
            ("Host", "127.0.0.1:5080"),
            ("User-Agent", UserAgent),
            ("X-Amz-Date", AmzDate),
            ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAFLEETKEYTEST0001/20250314/eu-central-1/iot/aws4_request, SignedHeaders=host;x-amz-date, Signature=32d853471b2f1ffcdb0ebf20690818222cc7cf42d215645e7bf1bf94a21eafdf"),
            ("amz-sdk-invocation-id", "d6bd1271-2472-46a8-bc44-23f6d6d148bd"),
            ("amz-sdk-request", "attempt=1"),
        ],
        "");

    // Body: {"attributePayload": {"attributes": {"serial": "SN 001/\u03b1"}}}
    public static readonly BotocoreVector CreateThingWithJsonBody = new(
        "CreateThingWithJsonBody", "eu-central-1", "POST", "/things/thing%3A1", "",
        [
            ("Host", "127.0.0.1:5080"),
            ("Content-Type", "application/json"),
            ("User-Agent", UserAgent),
            ("X-Amz-Date", AmzDate),
            ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAFLEETKEYTEST0001/20250314/eu-central-1/iot/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=f1fae6c019e9304ee984053386b94b52d679ab536a8783f029a17a46e32624a7"),
            ("amz-sdk-invocation-id", "91c29294-205b-41d2-8433-0328b7367063"),
            ("amz-sdk-request", "attempt=1"),
            ("Content-Length", "65"),
        ],
        "eyJhdHRyaWJ1dGVQYXlsb2FkIjogeyJhdHRyaWJ1dGVzIjogeyJzZXJpYWwiOiAiU04gMDAxL1x1MDNiMSJ9fX0=");

    public static readonly BotocoreVector DeleteThingWithQuery = new(
        "DeleteThingWithQuery", "us-east-1", "DELETE", "/things/old-thing", "expectedVersion=3",
        [
            ("Host", "127.0.0.1:5080"),
            ("User-Agent", UserAgent),
            ("X-Amz-Date", AmzDate),
            ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAFLEETKEYTEST0001/20250314/us-east-1/iot/aws4_request, SignedHeaders=host;x-amz-date, Signature=3e9f13fa9bdf4c11b548f508ff4b43d743ae726e7afc3b51accb4e04cf427971"),
            ("amz-sdk-invocation-id", "30e288b1-5675-4c93-bd73-e3bc05abef20"),
            ("amz-sdk-request", "attempt=1"),
            ("Content-Length", "0"),
        ],
        "");

    public static readonly BotocoreVector AttachThingPrincipalWithHeader = new(
        "AttachThingPrincipalWithHeader", "us-west-2", "PUT", "/things/thing-7/principals", "",
        [
            ("Host", "127.0.0.1:5080"),
            ("x-amzn-principal", "arn:aws:iot:us-west-2:000000000000:cert/abababababababababababababababababababababababababababababababab"),
            ("User-Agent", UserAgent),
            ("X-Amz-Date", AmzDate),
            ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAFLEETKEYTEST0001/20250314/us-west-2/iot/aws4_request, SignedHeaders=host;x-amz-date;x-amzn-principal, Signature=58542e36b5c12abad7f09f6bdf29485c9d84e98ee0b59a10b8dd135806dd2dde"),
            ("amz-sdk-invocation-id", "4bf30898-4931-4403-9474-9775eb6787de"),
            ("amz-sdk-request", "attempt=1"),
            ("Content-Length", "0"),
        ],
        "");

    public static readonly BotocoreVector UpdateCertificatePutWithQuery = new(
        "UpdateCertificatePutWithQuery", "us-west-2", "PUT",
        "/certificates/cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd", "newStatus=INACTIVE",
        [
            ("Host", "127.0.0.1:5080"),
            ("User-Agent", UserAgent),
            ("X-Amz-Date", AmzDate),
            ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAFLEETKEYTEST0001/20250314/us-west-2/iot/aws4_request, SignedHeaders=host;x-amz-date, Signature=75f0e11c80c0627ea6f47246e726f29827cf69b676108984be30bc276b26f509"),
            ("amz-sdk-invocation-id", "e7de4c63-5d8e-4b0a-8daf-3cefe2c20689"),
            ("amz-sdk-request", "attempt=1"),
            ("Content-Length", "0"),
        ],
        "");

    public static readonly BotocoreVector[] All =
    [
        ListThingsWithEncodedQuery,
        DescribeThingWithColonInLabel,
        CreateThingWithJsonBody,
        DeleteThingWithQuery,
        AttachThingPrincipalWithHeader,
        UpdateCertificatePutWithQuery,
    ];

    public static BotocoreVector Get(string name) => All.Single(v => v.Name == name);
}
