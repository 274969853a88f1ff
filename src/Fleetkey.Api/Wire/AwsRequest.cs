using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Fleetkey.Api.Authentication;
using Fleetkey.Api.Contracts;
using Fleetkey.Api.Hosting;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Paging;
using Fleetkey.Services.Registry;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Fleetkey.Api.Wire;

/// <summary>
/// A handler parameter holding an operation's validated input and the caller's scope. Minimal APIs
/// bind it through <see cref="BindAsync"/>: the operation comes from the endpoint's metadata.
/// </summary>
internal sealed class AwsRequest<T>
    where T : class
{
    private readonly JsonObject _json;
    private readonly PageBinding? _paging;

    private AwsRequest(T input, JsonObject json, IotScope scope, PageBinding? paging)
    {
        Input = input;
        Scope = scope;
        _json = json;
        _paging = paging;
    }

    public T Input { get; }

    public IotScope Scope { get; }

    public static async ValueTask<AwsRequest<T>?> BindAsync(HttpContext context, ParameterInfo parameter)
    {
        var operation = context.GetEndpoint()?.Metadata.GetMetadata<OperationModel>()
            ?? throw new InvalidOperationException($"{parameter.Name} is bound outside an AWS operation endpoint.");
        var (json, paging) = await RequestBinder.BindAsync(context, operation, operation.Model);
        await ControlPlaneAuthorization.AuthorizeAsync(context, operation, json);
        var typeInfo = (JsonTypeInfo<T>)ApiJsonContext.Default.GetTypeInfo(typeof(T))!;
        T input;
        try
        {
            input = json.Deserialize(typeInfo)!;
        }
        catch (JsonException)
        {
            // The validator has checked every member against the model; a value the model allows but the
            // contract cannot hold is still the client's, not a server failure.
            throw new ServiceException(ErrorCode.InvalidRequest, "The request has a value this operation cannot read.");
        }

        return new AwsRequest<T>(input, json, AwsScope.Of(context), paging);
    }

    /// <summary>Whether the request has the member, an explicit null included (an update's "remove").</summary>
    public bool Has(string member) => _json.ContainsKey(member);

    /// <summary>The page a list operation asks for: where its verified token says to start, and how many.</summary>
    public PageRequest Page(int? size) => Paging.Request(size);

    /// <summary>The token for the page after <paramref name="page"/> (null on the last), bound to this operation and its filters.</summary>
    public string? NextToken<TItem>(Page<TItem> page) => Paging.NextToken(page);

    private PageBinding Paging => _paging ?? throw new InvalidOperationException($"The input of {typeof(T).Name} has no page token member.");
}

internal static class AwsScope
{
    /// <summary>The caller's scope: the region it signed for and this installation's account.</summary>
    public static IotScope Of(HttpContext context)
    {
        var options = context.RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value;
        var region = context.Features.Get<SigV4Identity>()?.Region ?? options.DefaultRegion;
        return new IotScope(region, options.AccountId);
    }
}
