using System.Net;
using Fleetkey.Services.Tls;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Fleetkey.Hosting;

/// <summary>
/// The control-plane and device listeners as Kestrel binds them: each URL read as Kestrel reads
/// <c>--urls</c> (<c>localhost</c> is both loopback addresses, an IP address is itself, any other host
/// every interface), https:// ones with the server certificate of the one <see cref="ServerCertificateProvider"/>.
/// </summary>
internal static class HttpListeners
{
    /// <summary>
    /// Checks the listener URLs: http or https, no path, the two listeners apart, and no plain HTTP off
    /// loopback unless the operator says a TLS-terminating proxy is in front (<c>--allow-plain-http</c>).
    /// </summary>
    /// <exception cref="ArgumentException">A URL breaks a rule; the message names the flag and why.</exception>
    public static void Check(ServeSettings settings)
    {
        if (settings.HttpUrls.Count == 0)
        {
            throw new ArgumentException("--http needs at least one listener URL.");
        }

        var device = Parse("--device-http", settings.DeviceHttpUrl);
        foreach (var url in settings.HttpUrls)
        {
            var control = Parse("--http", url);
            if (control.Port == device.Port && control.Port != 0 && !control.IsUnixPipe)
            {
                throw new ArgumentException("--http and --device-http must be different listeners.");
            }
        }

        foreach (var (flag, url) in Listeners(settings))
        {
            var address = BindingAddress.Parse(url);
            if (!IsHttps(address) && !settings.AllowPlainHttp && !IsLocal(address))
            {
                throw new ArgumentException(
                    $"{flag} {url} would serve plain HTTP beyond this machine, where access keys' requests and the private keys Fleetkey returns cross the network in the clear: " +
                    $"use https:// (Fleetkey's CA issues the certificate, or give --tls-cert/--tls-key), or --allow-plain-http when a TLS-terminating proxy is in front.");
            }
        }
    }

    /// <summary>Whether any listener, or the broker, needs the server certificate.</summary>
    public static bool AnyHttps(ServeSettings settings) => Listeners(settings).Any(l => IsHttps(BindingAddress.Parse(l.Url)));

    /// <summary>Binds every listener; the https ones take their certificate from the provider at each handshake.</summary>
    public static void Configure(KestrelServerOptions kestrel, ServeSettings settings)
    {
        foreach (var (flag, url) in Listeners(settings))
        {
            var address = BindingAddress.Parse(url);
            Action<ListenOptions> configure = _ => { };
            if (IsHttps(address))
            {
                // The device listener asks for a client certificate (EST renewal authenticates with it) and takes
                // the handshake without one; the control plane authenticates requests, not connections.
                var https = new HttpsHandshake(kestrel.ApplicationServices.GetRequiredService<ServerCertificateProvider>(), askClientCertificate: flag == "--device-http");
                var options = new TlsHandshakeCallbackOptions { OnConnection = https.OnConnection };
                configure = listen =>
                {
                    listen.Protocols = HttpProtocols.Http1AndHttp2;
                    listen.UseHttps(options);
                };
            }

            if (address.IsUnixPipe)
            {
                kestrel.ListenUnixSocket(address.UnixPipePath, configure);
            }
            else if (string.Equals(address.Host, "localhost", StringComparison.OrdinalIgnoreCase))
            {
                kestrel.ListenLocalhost(address.Port, configure);
            }
            else if (IPAddress.TryParse(address.Host.Trim('[', ']'), out var ip))
            {
                kestrel.Listen(ip, address.Port, configure);
            }
            else
            {
                kestrel.ListenAnyIP(address.Port, configure);
            }
        }
    }

    private static IEnumerable<(string Flag, string Url)> Listeners(ServeSettings settings) =>
        settings.HttpUrls.Select(u => ("--http", u)).Append(("--device-http", settings.DeviceHttpUrl));

    private static BindingAddress Parse(string flag, string url)
    {
        BindingAddress address;
        try
        {
            address = BindingAddress.Parse(url);
        }
        catch (FormatException exception)
        {
            throw new ArgumentException($"{flag} {url} is not a listener URL ({exception.Message}); e.g. https://0.0.0.0:5081.", exception);
        }

        if (!string.Equals(address.Scheme, "http", StringComparison.OrdinalIgnoreCase) && !IsHttps(address))
        {
            throw new ArgumentException($"{flag} {url}: the scheme is http or https.");
        }

        if (!string.IsNullOrEmpty(address.PathBase))
        {
            throw new ArgumentException($"{flag} {url}: a listener URL has no path.");
        }

        return address;
    }

    private static bool IsHttps(BindingAddress address) => string.Equals(address.Scheme, "https", StringComparison.OrdinalIgnoreCase);

    /// <summary>Loopback or a Unix socket: nothing leaves the machine.</summary>
    private static bool IsLocal(BindingAddress address) =>
        address.IsUnixPipe
        || string.Equals(address.Host, "localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(address.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
}
