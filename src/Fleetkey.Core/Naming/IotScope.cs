namespace Fleetkey.Core.Naming;

/// <summary>
/// The partition a request runs in: the region taken from its SigV4 credential scope and the
/// account id of this Fleetkey installation. ARNs are rendered from it, never stored.
/// </summary>
public sealed record IotScope(string Region, string AccountId)
{
    public string ArnPrefix => $"arn:aws:iot:{Region}:{AccountId}:";
}
