using Fleetkey.Api.Contracts;
using Fleetkey.Api.Wire;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Registry;
using Fleetkey.Services.Provisioning;
using Fleetkey.Services.Registry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Fleetkey.Api.Endpoints;

/// <summary>
/// Enrollment groups and individual enrollments: Fleetkey's own control-plane routes (not in the
/// AWS IoT model), SigV4-authenticated and answering errors the AWS way like every other route.
/// Keys and secrets appear only in the answers to POST.
/// </summary>
internal static class EnrollmentsEndpoints
{
    private const string TemplateName = "templateName";
    private const string SerialNumberPattern = "serialNumberPattern";
    private const string AllowReprovisioning = "allowReprovisioning";
    private const string Parameters = "parameters";
    private const string Enabled = "enabled";

    public static IEndpointRouteBuilder MapEnrollments(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/enrollment-groups/{enrollmentGroupName}", CreateGroup).WithName("CreateEnrollmentGroup");
        routes.MapGet("/enrollment-groups/{enrollmentGroupName}", DescribeGroup).WithName("DescribeEnrollmentGroup");
        routes.MapPatch("/enrollment-groups/{enrollmentGroupName}", UpdateGroup).WithName("UpdateEnrollmentGroup");
        routes.MapDelete("/enrollment-groups/{enrollmentGroupName}", DeleteGroup).WithName("DeleteEnrollmentGroup");
        routes.MapGet("/enrollment-groups", ListGroups).WithName("ListEnrollmentGroups");
        routes.MapPost("/enrollments/{serialNumber}", Create).WithName("CreateEnrollment");
        routes.MapGet("/enrollments/{serialNumber}", Describe).WithName("DescribeEnrollment");
        routes.MapPatch("/enrollments/{serialNumber}", Update).WithName("UpdateEnrollment");
        routes.MapDelete("/enrollments/{serialNumber}", Delete).WithName("DeleteEnrollment");
        routes.MapGet("/enrollments", List).WithName("ListEnrollments");
        return routes;
    }

    private static async Task<JsonHttpResult<CreateEnrollmentGroupResponse>> CreateGroup(
        string enrollmentGroupName, HttpContext context, EnrollmentService enrollments, CancellationToken cancellationToken)
    {
        var settings = await ReadSettingsAsync(context, TemplateName, SerialNumberPattern, AllowReprovisioning, Parameters);
        var created = await enrollments.CreateGroupAsync(enrollmentGroupName, settings, cancellationToken);
        return TypedResults.Json(
            new CreateEnrollmentGroupResponse(created.Group.Name, GroupArn(context, created.Group), Convert.ToBase64String(created.GroupKey)),
            ApiJsonContext.Default.CreateEnrollmentGroupResponse);
    }

    private static async Task<JsonHttpResult<EnrollmentGroupDescription>> DescribeGroup(
        string enrollmentGroupName, HttpContext context, EnrollmentService enrollments, CancellationToken cancellationToken)
    {
        await RefuseBodyAsync(context);
        var group = await enrollments.GetGroupAsync(enrollmentGroupName, cancellationToken);
        return TypedResults.Json(ToWire(context, group), ApiJsonContext.Default.EnrollmentGroupDescription);
    }

    private static async Task<JsonHttpResult<EnrollmentGroupDescription>> UpdateGroup(
        string enrollmentGroupName, HttpContext context, EnrollmentService enrollments, CancellationToken cancellationToken)
    {
        var patch = await ReadPatchAsync(context, TemplateName, Enabled, AllowReprovisioning, Parameters, SerialNumberPattern);
        var group = await enrollments.UpdateGroupAsync(enrollmentGroupName, patch, cancellationToken);
        return TypedResults.Json(ToWire(context, group), ApiJsonContext.Default.EnrollmentGroupDescription);
    }

    private static async Task<ContentHttpResult> DeleteGroup(
        string enrollmentGroupName, HttpContext context, EnrollmentService enrollments, CancellationToken cancellationToken)
    {
        await RefuseBodyAsync(context);
        await enrollments.DeleteGroupAsync(enrollmentGroupName, cancellationToken);
        return AwsResults.Empty();
    }

    private static async Task<JsonHttpResult<ListEnrollmentGroupsResponse>> ListGroups(
        HttpContext context, EnrollmentService enrollments, CancellationToken cancellationToken)
    {
        var (paging, request) = await ReadPageAsync(context, "ListEnrollmentGroups");
        var page = await enrollments.ListGroupsAsync(request, cancellationToken);
        return TypedResults.Json(
            new ListEnrollmentGroupsResponse(page.Items.Select(g => ToWire(context, g)).ToList(), paging.NextToken(page)),
            ApiJsonContext.Default.ListEnrollmentGroupsResponse);
    }

    private static async Task<JsonHttpResult<CreateEnrollmentResponse>> Create(
        string serialNumber, HttpContext context, EnrollmentService enrollments, CancellationToken cancellationToken)
    {
        var settings = await ReadSettingsAsync(context, TemplateName, AllowReprovisioning, Parameters);
        var created = await enrollments.CreateAsync(serialNumber, settings, deviceSecret: null, cancellationToken);
        return TypedResults.Json(
            new CreateEnrollmentResponse(created.Enrollment.SerialNumber, EnrollmentArn(context, created.Enrollment), Convert.ToBase64String(created.DeviceSecret)),
            ApiJsonContext.Default.CreateEnrollmentResponse);
    }

    private static async Task<JsonHttpResult<EnrollmentDescription>> Describe(
        string serialNumber, HttpContext context, EnrollmentService enrollments, CancellationToken cancellationToken)
    {
        await RefuseBodyAsync(context);
        var enrollment = await enrollments.GetAsync(serialNumber, cancellationToken);
        return TypedResults.Json(ToWire(context, enrollment), ApiJsonContext.Default.EnrollmentDescription);
    }

    private static async Task<JsonHttpResult<EnrollmentDescription>> Update(
        string serialNumber, HttpContext context, EnrollmentService enrollments, CancellationToken cancellationToken)
    {
        var patch = await ReadPatchAsync(context, TemplateName, Enabled, AllowReprovisioning, Parameters);
        var enrollment = await enrollments.UpdateAsync(serialNumber, patch, cancellationToken);
        return TypedResults.Json(ToWire(context, enrollment), ApiJsonContext.Default.EnrollmentDescription);
    }

    private static async Task<ContentHttpResult> Delete(
        string serialNumber, HttpContext context, EnrollmentService enrollments, CancellationToken cancellationToken)
    {
        await RefuseBodyAsync(context);
        await enrollments.DeleteAsync(serialNumber, cancellationToken);
        return AwsResults.Empty();
    }

    private static async Task<JsonHttpResult<ListEnrollmentsResponse>> List(
        HttpContext context, EnrollmentService enrollments, CancellationToken cancellationToken)
    {
        var (paging, request) = await ReadPageAsync(context, "ListEnrollments");
        var page = await enrollments.ListAsync(request, cancellationToken);
        return TypedResults.Json(
            new ListEnrollmentsResponse(page.Items.Select(e => ToWire(context, e)).ToList(), paging.NextToken(page)),
            ApiJsonContext.Default.ListEnrollmentsResponse);
    }

    private static async Task<EnrollmentSettings> ReadSettingsAsync(HttpContext context, params string[] members)
    {
        using var request = await ExtensionRequest.ReadAsync(context, members);
        var settings = new EnrollmentSettings(
            request.String(TemplateName),
            request.Boolean(AllowReprovisioning) ?? false,
            request.StringMap(Parameters),
            members.Contains(SerialNumberPattern) ? request.String(SerialNumberPattern) : null,
            AwsScope.Of(context).Region);
        request.ThrowIfInvalid();
        return settings;
    }

    private static async Task<EnrollmentPatch> ReadPatchAsync(HttpContext context, params string[] members)
    {
        using var request = await ExtensionRequest.ReadAsync(context, members);

        // For a group, an explicit "serialNumberPattern": null removes the pattern; absent keeps it.
        var pattern = members.Contains(SerialNumberPattern) && request.Has(SerialNumberPattern)
            ? new PatternChange(request.String(SerialNumberPattern))
            : null;
        var patch = new EnrollmentPatch(
            request.String(TemplateName),
            request.Boolean(Enabled),
            request.Boolean(AllowReprovisioning),
            request.StringMap(Parameters),
            pattern);
        request.ThrowIfInvalid();
        return patch;
    }

    /// <summary>The page asked for, from a token bound to <paramref name="operation"/> (these lists have no filters).</summary>
    private static async Task<(PageBinding Paging, PageRequest Request)> ReadPageAsync(HttpContext context, string operation)
    {
        using var request = await ExtensionRequest.ReadAsync(context);
        var maxResults = request.QueryInt("maxResults");
        var nextToken = request.QueryString("nextToken");
        request.ThrowIfInvalid();
        var paging = PageBinding.ForRoute(context, operation, nextToken);
        return (paging, paging.Request(maxResults));
    }

    // GET and DELETE take no body: anything in one is refused rather than ignored.
    private static async Task RefuseBodyAsync(HttpContext context)
    {
        using var request = await ExtensionRequest.ReadAsync(context);
        request.ThrowIfInvalid();
    }

    private static EnrollmentGroupDescription ToWire(HttpContext context, EnrollmentGroup group) => new(
        group.Name,
        GroupArn(context, group),
        group.TemplateName,
        group.SerialNumberPattern,
        group.AllowReprovisioning,
        group.Enabled,
        group.Parameters,
        group.CreatedAt,
        group.LastModifiedAt);

    private static EnrollmentDescription ToWire(HttpContext context, Enrollment enrollment) => new(
        enrollment.SerialNumber,
        EnrollmentArn(context, enrollment),
        enrollment.TemplateName,
        enrollment.AllowReprovisioning,
        enrollment.Enabled,
        enrollment.Parameters,
        enrollment.CreatedAt,
        enrollment.LastModifiedAt);

    // An enrollment's ARN is in the region it was created in (the device endpoint answers its devices
    // in that region too); one stored without a region is shown in the caller's.
    private static string GroupArn(HttpContext context, EnrollmentGroup group) =>
        Arn.For(InRegion(context, group.Region), ResourceKind.EnrollmentGroup, group.Name);

    private static string EnrollmentArn(HttpContext context, Enrollment enrollment) =>
        Arn.For(InRegion(context, enrollment.Region), ResourceKind.Enrollment, enrollment.SerialNumber);

    private static IotScope InRegion(HttpContext context, string? region) =>
        AwsScope.Of(context) is var scope && region is not null ? scope with { Region = region } : scope;
}
