namespace Fleetkey.Hosting;

/// <summary>
/// What <c>fleetkey serve</c> was told, from flags or their environment variables. This is the one
/// place flags become settings; the host turns them into validated options.
/// </summary>
internal sealed record ServeSettings
{
    public string DataDirectory { get; init; } = "./fleetkey-data";

    public string HttpUrl { get; init; } = "http://127.0.0.1:5080";

    public string DeviceHttpUrl { get; init; } = "http://127.0.0.1:5081";

    /// <summary>MQTT over TLS; 0 disables the broker.</summary>
    public int MqttPort { get; init; } = 8883;

    public string AccountId { get; init; } = "000000000000";

    public string PublicHost { get; init; } = "127.0.0.1";
}
