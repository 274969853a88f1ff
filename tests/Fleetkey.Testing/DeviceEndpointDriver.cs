using System.Net;
using System.Text.Json.Nodes;
using Fleetkey.Services.Devices;

namespace Fleetkey.Testing;

/// <summary>What <c>POST /device/register</c> answered.</summary>
public sealed record DeviceAnswer(int Status, string? ErrorType, string? RetryAfter, string Text)
{
    public JsonNode? Body => Text.Length == 0 ? null : JsonNode.Parse(Text);

    public string? Message => Body?["message"]?.GetValue<string>();
}

/// <summary>
/// Drives the device endpoint of a <see cref="FleetkeyTestHost"/> as an operator and a device would: a
/// FLEET_PROVISIONING template and enrollments made through the control plane, then requests sent as
/// they are (any bytes, content type, length or chunking) on the device listener.
/// </summary>
public sealed class DeviceEndpointDriver
{
    /// <summary>A thing named after the serial number and the endpoint's certificate, ACTIVE.</summary>
    public const string TemplateBody = """
        {"Parameters": {"SerialNumber": {"Type": "String"}, "AWS::IoT::Certificate::Id": {"Type": "String"}},
         "Resources": {
           "thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Ref": "SerialNumber"}}},
           "certificate": {"Type": "AWS::IoT::Certificate", "Properties": {"CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "ACTIVE"}}}}
        """;

    private readonly FleetkeyTestHost _host;
    private int _tokens;

    private DeviceEndpointDriver(FleetkeyTestHost host, string templateName)
    {
        _host = host;
        TemplateName = templateName;
    }

    public string TemplateName { get; }

    /// <summary>Stores the template with CreateProvisioningTemplate.</summary>
    public static async Task<DeviceEndpointDriver> CreateAsync(FleetkeyTestHost host, string templateName = "device-template")
    {
        ArgumentNullException.ThrowIfNull(host);
        (await host.SendAsync(HttpMethod.Post, "/provisioning-templates", new
        {
            templateName,
            templateBody = TemplateBody,
            provisioningRoleArn = "arn:aws:iam::123456789012:role/FleetkeyProvisioning",
            enabled = true,
        })).EnsureOk();
        return new DeviceEndpointDriver(host, templateName);
    }

    /// <summary>An individual enrollment for <paramref name="serialNumber"/>; returns its device secret.</summary>
    public async Task<byte[]> EnrollAsync(string serialNumber)
    {
        var created = (await _host.SendAsync(HttpMethod.Post, $"/enrollments/{serialNumber}", new { templateName = TemplateName })).EnsureOk();
        return Convert.FromBase64String(created.Body!["deviceSecret"]!.GetValue<string>());
    }

    /// <summary>A SharedAccessSignature header; each one gets its own expiry second (the host's clock stands still).</summary>
    public string Token(byte[] secret, string serialNumber) =>
        SharedAccessSignature.Create(secret, serialNumber, (_host.Time.GetUtcNow() + TimeSpan.FromMinutes(30) + TimeSpan.FromSeconds(Interlocked.Increment(ref _tokens))).ToUnixTimeSeconds());

    /// <summary>Posts <paramref name="body"/> as it is; <paramref name="chunked"/> sends it without a Content-Length.</summary>
    public static async Task<DeviceAnswer> PostAsync(HttpClient device, byte[] body, string? authorization, string? contentType = "application/json", bool chunked = false)
    {
        ArgumentNullException.ThrowIfNull(device);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/device/register");
        HttpContent content = chunked ? new UnknownLengthContent(body) : new ByteArrayContent(body);
        if (contentType is not null)
        {
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        request.Content = content;
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using var response = await device.SendAsync(request);
        return new DeviceAnswer(
            (int)response.StatusCode,
            response.Headers.TryGetValues("x-amzn-ErrorType", out var type) ? type.First() : null,
            response.Headers.RetryAfter?.Delta is { } delta ? ((long)delta.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture) : null,
            await response.Content.ReadAsStringAsync());
    }

    /// <summary>A body whose length the client does not say (HTTP/1.1 sends it chunked).</summary>
    private sealed class UnknownLengthContent(byte[] body) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(body).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }
}
