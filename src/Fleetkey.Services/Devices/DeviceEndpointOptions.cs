using System.ComponentModel.DataAnnotations;

namespace Fleetkey.Services.Devices;

/// <summary>How the device endpoint (<c>POST /device/register</c>) limits, trusts and answers devices.</summary>
public sealed class DeviceEndpointOptions
{
    /// <summary>
    /// Authenticated attempts (the signature verified) per serial number per <see cref="SerialWindow"/>,
    /// whatever became of them; 0 turns the limit off. Unauthenticated ones count per address only.
    /// </summary>
    [Range(0, 1_000_000)]
    public int RatePerSerial { get; set; } = 5;

    public TimeSpan SerialWindow { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Requests per source address per <see cref="AddressWindow"/>, every one of them; 0 turns the limit off.</summary>
    [Range(0, 1_000_000)]
    public int RatePerAddress { get; set; } = 60;

    public TimeSpan AddressWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How far ahead a token's expiry may be.</summary>
    public TimeSpan MaxTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Clock difference tolerated between device and server, both ways.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long after issuance a never-connected certificate may be replaced without reprovisioning (a lost answer).</summary>
    public TimeSpan LostAnswerWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How long audit rows are kept; at least the longest rate window, which counts them.</summary>
    public TimeSpan AuditRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// Take the source address from the last entry of <c>X-Forwarded-For</c> (what the proxy in front
    /// appended) instead of the socket; only behind a proxy that sets it, or clients choose their address.
    /// </summary>
    public bool TrustForwardedFor { get; set; }

    /// <summary>Request bodies larger than this are refused unread (a CSR is a few KiB).</summary>
    [Range(1024, 1024 * 1024)]
    public int MaxBodyBytes { get; set; } = 64 * 1024;

    /// <summary>The MQTT endpoint devices are told to connect to.</summary>
    [Required]
    public string MqttHost { get; set; } = "127.0.0.1";

    [Range(0, 65535)]
    public int MqttPort { get; set; } = 8883;

    /// <summary>Checks what attributes cannot; returns the problems (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (SerialWindow <= TimeSpan.Zero || AddressWindow <= TimeSpan.Zero)
        {
            problems.Add("The rate windows must be positive.");
        }

        if (AuditRetention < SerialWindow || AuditRetention < AddressWindow)
        {
            problems.Add("The audit retention must be at least as long as the rate windows, which count audit rows.");
        }

        if (MaxTokenLifetime <= TimeSpan.Zero || ClockSkew < TimeSpan.Zero)
        {
            problems.Add("The token lifetime must be positive and the clock skew not negative.");
        }

        return problems;
    }
}
