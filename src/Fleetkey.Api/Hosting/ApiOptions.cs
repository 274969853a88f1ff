using System.ComponentModel.DataAnnotations;

namespace Fleetkey.Api.Hosting;

/// <summary>What the control plane says about this installation.</summary>
public sealed class ApiOptions
{
    /// <summary>The account id in every ARN (12 digits).</summary>
    [RegularExpression("^[0-9]{12}$", ErrorMessage = "The account id is 12 digits.")]
    public string AccountId { get; set; } = "000000000000";

    /// <summary>The host name devices use to reach the MQTT broker, returned by DescribeEndpoint.</summary>
    [Required]
    public string PublicHost { get; set; } = "127.0.0.1";

    /// <summary>The region used when a request carries none (unsigned, anonymous routes).</summary>
    public string DefaultRegion { get; set; } = "us-east-1";
}
