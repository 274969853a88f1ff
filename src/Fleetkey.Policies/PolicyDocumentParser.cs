namespace Fleetkey.Policies;

public static class PolicyDocumentParser
{
    /// <summary>Parses and validates a policy document; throws <see cref="PolicyDocumentException"/> with the reason.</summary>
    public static PolicyDocument Parse(string json) => throw new NotImplementedException();
}
