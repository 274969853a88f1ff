using System.Globalization;
using Fleetkey.Api.Contracts;
using Fleetkey.Api.Wire;
using Fleetkey.Core.Paging;
using Fleetkey.Services.Audit;
using Fleetkey.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Fleetkey.Api.Endpoints;

/// <summary><c>/audit-records</c> and <c>/audit-trail/verification</c>: the audit trail, as <c>fleetkey audit</c> shows and verifies it.</summary>
internal static class AuditEndpoints
{
    public static IEndpointRouteBuilder MapAudit(this IEndpointRouteBuilder routes)
    {
        routes.MapExtension("ListAuditRecords", List);
        routes.MapExtension("VerifyAuditTrail", Verify);
        return routes;
    }

    private static async Task<JsonHttpResult<ListAuditRecordsResponse>> List(AwsRequest<ListAuditRecordsRequest> request, AuditTrail trail, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var outcome = input.Outcome switch
        {
            "succeeded" => AuditOutcome.Succeeded,
            "denied" => AuditOutcome.Denied,
            "failed" => AuditOutcome.Failed,
            _ => (AuditOutcome?)null,
        };
        var page = request.Page(input.MaxResults);
        var after = page.After is { } key ? long.Parse(key, CultureInfo.InvariantCulture) : 0;
        var query = new AuditQuery(input.Since, input.Until, input.AccessKeyId, input.Operation, input.Resource, outcome);
        var records = await trail.QueryAsync(query, after, page.Fetch, cancellationToken);
        var items = records.Take(page.Limit).ToList();
        var next = records.Count > page.Limit ? items[^1].Sequence.ToString(CultureInfo.InvariantCulture) : null;
        return TypedResults.Json(
            new ListAuditRecordsResponse
            {
                Records = [.. items.Select(r => new AuditTrailRecord
                {
                    Sequence = r.Sequence,
                    RecordedAt = r.RecordedAt,
                    RequestId = r.RequestId,
                    Channel = r.Channel,
                    AccessKeyId = r.AccessKeyId,
                    Operation = r.Operation,
                    Resources = [.. r.Resources],
                    Source = r.Source,
                    UserAgent = r.UserAgent,
                    Status = r.Status,
                    ErrorCode = r.ErrorCode,
                    Hash = r.Hash,
                })],
                NextToken = request.NextToken(new Page<AuditRecord>(items, next)),
            },
            ApiJsonContext.Default.ListAuditRecordsResponse);
    }

    private static async Task<JsonHttpResult<VerifyAuditTrailResponse>> Verify(AwsRequest<VerifyAuditTrailRequest> request, AuditTrail trail, CancellationToken cancellationToken)
    {
        var result = await trail.VerifyAsync(cancellationToken);
        return TypedResults.Json(
            new VerifyAuditTrailResponse
            {
                Verified = result.Verified,
                Checked = result.Checked,
                AnchorSequence = result.AnchorSequence,
                HeadSequence = result.HeadSequence,
                HeadHash = result.HeadHash,
                BadSequence = result.BadSequence,
                Problem = result.Problem,
            },
            ApiJsonContext.Default.VerifyAuditTrailResponse);
    }
}
