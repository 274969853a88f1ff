using System.Net;
using System.Net.Sockets;

namespace Fleetkey.Hosting;

/// <summary>
/// Checks, before <c>serve</c> creates anything, that each listener's address can be bound: a busy
/// port or an address this machine does not have is one line naming the flag, not a data directory
/// made for nothing, a stack trace from the host or an unhandled socket error. Each address is bound
/// and released at once, as Kestrel and the broker will bind it (Kestrel's reading of a URL:
/// <c>localhost</c> is both loopback addresses, an IP address is itself, any other host every
/// interface). A port taken by another process between this check and the real bind still stops the
/// start, later and with the host's own messages.
/// </summary>
internal static class ListenerProbe
{
    /// <summary>Throws an <see cref="IOException"/> naming the flag and the address when a listener cannot bind.</summary>
    public static void EnsureAvailable(ServeSettings settings)
    {
        foreach (var url in settings.HttpUrls)
        {
            EnsureAvailable("--http " + url, HttpEndpoints(url));
        }

        EnsureAvailable("--device-http " + settings.DeviceHttpUrl, HttpEndpoints(settings.DeviceHttpUrl));
        if (settings.MqttPort != 0)
        {
            EnsureAvailable(FormattableString.Invariant($"--mqtt-port {settings.MqttPort}"), [(new IPEndPoint(settings.MqttBind, settings.MqttPort), Optional: false)]);
        }
    }

    /// <summary>The addresses Kestrel binds for a URL; Optional ones it skips when the machine has no such address (IPv6 loopback).</summary>
    private static IReadOnlyList<(IPEndPoint Endpoint, bool Optional)> HttpEndpoints(string url)
    {
        var address = BindingAddress.Parse(url);
        if (address.IsUnixPipe || address.IsNamedPipe || address.Port == 0)
        {
            // Nothing another process can hold that a probe would see (a dynamic port is always free).
            return [];
        }

        if (string.Equals(address.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return [(new IPEndPoint(IPAddress.Loopback, address.Port), false), (new IPEndPoint(IPAddress.IPv6Loopback, address.Port), true)];
        }

        if (IPAddress.TryParse(address.Host, out var ip))
        {
            return [(new IPEndPoint(ip, address.Port), false)];
        }

        return [(new IPEndPoint(Socket.OSSupportsIPv6 ? IPAddress.IPv6Any : IPAddress.Any, address.Port), false)];
    }

    private static void EnsureAvailable(string flag, IReadOnlyList<(IPEndPoint Endpoint, bool Optional)> endpoints)
    {
        foreach (var (endpoint, optional) in endpoints)
        {
            using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                if (endpoint.Address.Equals(IPAddress.IPv6Any))
                {
                    socket.DualMode = true;
                }

                // .NET sets SO_REUSEADDR on Unix before a TCP bind, as for the real listeners, so a
                // port held only by connections closing (TIME_WAIT) counts as free, as it is for them.
                socket.Bind(endpoint);
            }
            catch (SocketException exception) when (optional && exception.SocketErrorCode is SocketError.AddressNotAvailable or SocketError.AddressFamilyNotSupported)
            {
                // No IPv6 loopback here: Kestrel listens on the IPv4 one alone.
            }
            catch (SocketException exception)
            {
                throw new IOException($"{flag}: {Problem(endpoint, exception)}", exception);
            }
        }
    }

    private static string Problem(IPEndPoint endpoint, SocketException exception) => exception.SocketErrorCode switch
    {
        SocketError.AddressAlreadyInUse => $"address {endpoint} is already in use",
        SocketError.AddressNotAvailable => $"address {endpoint} is not an address of this machine",
        SocketError.AccessDenied => $"binding address {endpoint} is not permitted (ports below 1024 need privileges)",
        _ => $"address {endpoint} cannot be bound: {exception.Message}",
    };
}
