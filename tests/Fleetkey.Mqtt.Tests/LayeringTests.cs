using Xunit;

namespace Fleetkey.Mqtt.Tests;

/// <summary>The broker is an adapter over the application layer, like the HTTP API and the device endpoint.</summary>
public sealed class LayeringTests
{
    [Fact]
    public void ReferencedAssemblies_Broker_TheServicesAndNeverTheStore()
    {
        var referenced = typeof(MqttBroker).Assembly.GetReferencedAssemblies().Select(a => a.Name).ToList();

        Assert.Contains("Fleetkey.Services", referenced);
        Assert.DoesNotContain(referenced, name => name is not null && name.StartsWith("Fleetkey.Storage", StringComparison.Ordinal));
    }
}
