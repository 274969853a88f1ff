using Fleetkey.Api.Contracts;
using Fleetkey.Api.Wire;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Registry;
using Fleetkey.Services.Provisioning;
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
    public static IEndpointRouteBuilder MapEnrollments(this IEndpointRouteBuilder routes)
    {
        routes.MapExtension("CreateEnrollmentGroup", CreateGroup);
        routes.MapExtension("DescribeEnrollmentGroup", DescribeGroup);
        routes.MapExtension("UpdateEnrollmentGroup", UpdateGroup);
        routes.MapExtension("DeleteEnrollmentGroup", DeleteGroup);
        routes.MapExtension("ListEnrollmentGroups", ListGroups);
        routes.MapExtension("CreateEnrollment", Create);
        routes.MapExtension("DescribeEnrollment", Describe);
        routes.MapExtension("UpdateEnrollment", Update);
        routes.MapExtension("DeleteEnrollment", Delete);
        routes.MapExtension("ListEnrollments", List);
        return routes;
    }

    private static async Task<JsonHttpResult<CreateEnrollmentGroupResponse>> CreateGroup(
        AwsRequest<CreateEnrollmentGroupRequest> request, EnrollmentService enrollments, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var settings = new EnrollmentSettings(input.TemplateName, input.AllowReprovisioning ?? false, input.Parameters, input.SerialNumberPattern, request.Scope.Region);
        var created = await enrollments.CreateGroupAsync(input.EnrollmentGroupName, settings, cancellationToken);
        return TypedResults.Json(
            new CreateEnrollmentGroupResponse
            {
                EnrollmentGroupName = created.Group.Name,
                EnrollmentGroupArn = GroupArn(request.Scope, created.Group),
                GroupKey = Convert.ToBase64String(created.GroupKey),
            },
            ApiJsonContext.Default.CreateEnrollmentGroupResponse);
    }

    private static async Task<JsonHttpResult<EnrollmentGroupDescription>> DescribeGroup(
        AwsRequest<DescribeEnrollmentGroupRequest> request, EnrollmentService enrollments, CancellationToken cancellationToken)
    {
        var group = await enrollments.GetGroupAsync(request.Input.EnrollmentGroupName, cancellationToken);
        return TypedResults.Json(ToWire(request.Scope, group), ApiJsonContext.Default.EnrollmentGroupDescription);
    }

    private static async Task<JsonHttpResult<EnrollmentGroupDescription>> UpdateGroup(
        AwsRequest<UpdateEnrollmentGroupRequest> request, EnrollmentService enrollments, CancellationToken cancellationToken)
    {
        var input = request.Input;

        // An explicit "serialNumberPattern": null removes the pattern; absent keeps it.
        var pattern = request.Has("serialNumberPattern") ? new PatternChange(input.SerialNumberPattern) : null;
        var patch = new EnrollmentPatch(input.TemplateName, input.Enabled, input.AllowReprovisioning, input.Parameters, pattern);
        var group = await enrollments.UpdateGroupAsync(input.EnrollmentGroupName, patch, cancellationToken);
        return TypedResults.Json(ToWire(request.Scope, group), ApiJsonContext.Default.EnrollmentGroupDescription);
    }

    private static async Task<ContentHttpResult> DeleteGroup(
        AwsRequest<DeleteEnrollmentGroupRequest> request, EnrollmentService enrollments, CancellationToken cancellationToken)
    {
        await enrollments.DeleteGroupAsync(request.Input.EnrollmentGroupName, cancellationToken);
        return AwsResults.Empty();
    }

    private static async Task<JsonHttpResult<ListEnrollmentGroupsResponse>> ListGroups(
        AwsRequest<ListEnrollmentGroupsRequest> request, EnrollmentService enrollments, CancellationToken cancellationToken)
    {
        var page = await enrollments.ListGroupsAsync(request.Page(request.Input.MaxResults), cancellationToken);
        return TypedResults.Json(
            new ListEnrollmentGroupsResponse { EnrollmentGroups = [.. page.Items.Select(g => ToWire(request.Scope, g))], NextToken = request.NextToken(page) },
            ApiJsonContext.Default.ListEnrollmentGroupsResponse);
    }

    private static async Task<JsonHttpResult<CreateEnrollmentResponse>> Create(
        AwsRequest<CreateEnrollmentRequest> request, EnrollmentService enrollments, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var settings = new EnrollmentSettings(input.TemplateName, input.AllowReprovisioning ?? false, input.Parameters, SerialNumberPattern: null, request.Scope.Region);
        var created = await enrollments.CreateAsync(input.SerialNumber, settings, deviceSecret: null, cancellationToken);
        return TypedResults.Json(
            new CreateEnrollmentResponse
            {
                SerialNumber = created.Enrollment.SerialNumber,
                EnrollmentArn = EnrollmentArn(request.Scope, created.Enrollment),
                DeviceSecret = Convert.ToBase64String(created.DeviceSecret),
            },
            ApiJsonContext.Default.CreateEnrollmentResponse);
    }

    private static async Task<JsonHttpResult<EnrollmentDescription>> Describe(
        AwsRequest<DescribeEnrollmentRequest> request, EnrollmentService enrollments, CancellationToken cancellationToken)
    {
        var enrollment = await enrollments.GetAsync(request.Input.SerialNumber, cancellationToken);
        return TypedResults.Json(ToWire(request.Scope, enrollment), ApiJsonContext.Default.EnrollmentDescription);
    }

    private static async Task<JsonHttpResult<EnrollmentDescription>> Update(
        AwsRequest<UpdateEnrollmentRequest> request, EnrollmentService enrollments, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var patch = new EnrollmentPatch(input.TemplateName, input.Enabled, input.AllowReprovisioning, input.Parameters, SerialNumberPattern: null);
        var enrollment = await enrollments.UpdateAsync(input.SerialNumber, patch, cancellationToken);
        return TypedResults.Json(ToWire(request.Scope, enrollment), ApiJsonContext.Default.EnrollmentDescription);
    }

    private static async Task<ContentHttpResult> Delete(
        AwsRequest<DeleteEnrollmentRequest> request, EnrollmentService enrollments, CancellationToken cancellationToken)
    {
        await enrollments.DeleteAsync(request.Input.SerialNumber, cancellationToken);
        return AwsResults.Empty();
    }

    private static async Task<JsonHttpResult<ListEnrollmentsResponse>> List(
        AwsRequest<ListEnrollmentsRequest> request, EnrollmentService enrollments, CancellationToken cancellationToken)
    {
        var page = await enrollments.ListAsync(request.Page(request.Input.MaxResults), cancellationToken);
        return TypedResults.Json(
            new ListEnrollmentsResponse { Enrollments = [.. page.Items.Select(e => ToWire(request.Scope, e))], NextToken = request.NextToken(page) },
            ApiJsonContext.Default.ListEnrollmentsResponse);
    }

    private static EnrollmentGroupDescription ToWire(IotScope scope, EnrollmentGroup group) => new()
    {
        EnrollmentGroupName = group.Name,
        EnrollmentGroupArn = GroupArn(scope, group),
        TemplateName = group.TemplateName,
        SerialNumberPattern = group.SerialNumberPattern,
        AllowReprovisioning = group.AllowReprovisioning,
        Enabled = group.Enabled,
        Parameters = group.Parameters,
        CreationDate = group.CreatedAt,
        LastModifiedDate = group.LastModifiedAt,
    };

    private static EnrollmentDescription ToWire(IotScope scope, Enrollment enrollment) => new()
    {
        SerialNumber = enrollment.SerialNumber,
        EnrollmentArn = EnrollmentArn(scope, enrollment),
        TemplateName = enrollment.TemplateName,
        AllowReprovisioning = enrollment.AllowReprovisioning,
        Enabled = enrollment.Enabled,
        Parameters = enrollment.Parameters,
        CreationDate = enrollment.CreatedAt,
        LastModifiedDate = enrollment.LastModifiedAt,
    };

    // An enrollment's ARN is in the region it was created in (the device endpoint answers its devices
    // in that region too); one stored without a region is shown in the caller's.
    private static string GroupArn(IotScope scope, EnrollmentGroup group) =>
        Arn.For(InRegion(scope, group.Region), ResourceKind.EnrollmentGroup, group.Name);

    private static string EnrollmentArn(IotScope scope, Enrollment enrollment) =>
        Arn.For(InRegion(scope, enrollment.Region), ResourceKind.Enrollment, enrollment.SerialNumber);

    private static IotScope InRegion(IotScope scope, string? region) => region is not null ? scope with { Region = region } : scope;
}
