using System.Text;
using System.Text.Json.Nodes;
using Fleetkey.Core.Paging;
using Fleetkey.Services.Registry;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Fleetkey.Api.Wire;

/// <summary>
/// The paging of one list request: where its page starts, read from a token verified against the operation
/// and the filters of this request, and the tokens it hands out, bound to the same. A token from another
/// operation, from the same operation with other filters (another thing type, another group, the other sort
/// order), or one altered by the client is refused ("Invalid nextToken") before the handler runs.
/// </summary>
/// <remarks>
/// The page size is not bound: AWS lets a client change it between pages, and the paginators of boto3 and
/// the AWS CLI send every other parameter unchanged with each page.
/// </remarks>
internal sealed class PageBinding
{
    private static readonly string[] TokenMembers = ["nextToken", "marker"];
    private static readonly string[] SizeMembers = ["maxResults", "pageSize"];

    private readonly PageTokens _tokens;
    private readonly string _scope;

    private PageBinding(PageTokens tokens, string scope, string? token, string tokenField, string sizeField)
    {
        _tokens = tokens;
        _scope = scope;
        SizeField = sizeField;
        After = tokens.Unprotect(scope, token, tokenField);
    }

    /// <summary>The sort key after which the requested page starts; null for the first page.</summary>
    public string? After { get; }

    /// <summary>The member that carries the page size (<c>maxResults</c> or <c>pageSize</c>), for messages.</summary>
    public string SizeField { get; }

    /// <summary>The paging of a model operation whose input has a token member; null for any other operation.</summary>
    /// <param name="members">The member names of the operation's input shape.</param>
    /// <param name="input">The bound input: every member but the token and the page size is a filter the token is bound to.</param>
    public static PageBinding? ForOperation(HttpContext context, OperationModel operation, IEnumerable<string> members, JsonObject input)
    {
        var names = members.ToHashSet(StringComparer.Ordinal);
        if (TokenMembers.FirstOrDefault(names.Contains) is not { } tokenField)
        {
            return null;
        }

        var sizeField = SizeMembers.FirstOrDefault(names.Contains) ?? "maxResults";
        var scope = new StringBuilder(operation.Name);
        foreach (var (name, value) in input.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            if (name != tokenField && name != sizeField && value is not null)
            {
                scope.Append('\n').Append(name).Append('=').Append(value.ToJsonString());
            }
        }

        var token = input[tokenField] is JsonValue text && text.TryGetValue<string>(out var s) ? s : null;
        return new PageBinding(Tokens(context), scope.ToString(), token, tokenField, sizeField);
    }

    /// <summary>The paging of a Fleetkey route that lists without filters, by its operation name.</summary>
    public static PageBinding ForRoute(HttpContext context, string operation, string? token) =>
        new(Tokens(context), operation, token, "nextToken", "maxResults");

    /// <summary>The page the request asks for.</summary>
    public PageRequest Request(int? size) => PageRequest.From(After, size, SizeField);

    /// <summary>The token for the page after <paramref name="page"/>; null on the last page.</summary>
    public string? NextToken<T>(Page<T> page) => page.NextKey is { } key ? _tokens.Protect(_scope, key) : null;

    private static PageTokens Tokens(HttpContext context) => context.RequestServices.GetRequiredService<PageTokens>();
}
