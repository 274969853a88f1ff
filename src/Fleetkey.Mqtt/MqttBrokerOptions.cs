namespace Fleetkey.Mqtt;

/// <summary>The MQTT broker's listener and the account its policies name.</summary>
public sealed class MqttBrokerOptions
{
    /// <summary>TCP port of the MQTT over TLS listener (8883 by default); 0 disables the broker.</summary>
    public int Port { get; set; } = 8883;

    /// <summary>The host name devices connect to; the server certificate names it, localhost and 127.0.0.1.</summary>
    public string PublicHost { get; set; } = "127.0.0.1";

    /// <summary>The account id in the resource ARNs that policies are evaluated against.</summary>
    public string AccountId { get; set; } = "000000000000";

    /// <summary>
    /// How often the broker asks the store whether anything changed and re-checks connected devices
    /// (certificate status, iot:Connect), so that a revoked device is cut off within about twice this.
    /// </summary>
    public TimeSpan RevocationPollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Keep a device's first connection open once just-in-time provisioning succeeded (AWS IoT closes
    /// it and the device must reconnect); off by default, as on AWS.
    /// </summary>
    public bool JitpKeepConnection { get; set; }

    /// <summary>Lifetime of the server certificate made at each start.</summary>
    public TimeSpan ServerCertificateValidity { get; set; } = TimeSpan.FromDays(365);
}
