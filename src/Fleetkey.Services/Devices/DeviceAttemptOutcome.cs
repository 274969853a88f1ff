namespace Fleetkey.Services.Devices;

/// <summary>The outcome words of the audit log (<c>device_attempts.outcome</c>).</summary>
public static class DeviceAttemptOutcome
{
    public const string Pending = "pending";
    public const string Registered = "registered";
    public const string Throttled = "throttled";
    public const string Unauthorized = "unauthorized";
    public const string Forbidden = "forbidden";
    public const string Conflict = "conflict";
    public const string Invalid = "invalid";
    public const string Failed = "failed";
}
