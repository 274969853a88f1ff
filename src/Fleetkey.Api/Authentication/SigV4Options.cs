namespace Fleetkey.Api.Authentication;

/// <summary>Options of the control-plane SigV4 authentication.</summary>
public sealed record SigV4Options
{
    /// <summary>
    /// The largest request body buffered for hashing, in bytes (default 1 MiB). A larger body is
    /// refused with <c>RequestEntityTooLargeException</c> before it is verified.
    /// </summary>
    public int MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>The service name the credential scope must name (default <c>iot</c>).</summary>
    public string Service { get; set; } = "iot";
}
