from django.urls import path

from users_app.api import views

app_name = "users_api"

urlpatterns = [
    path("register/", views.RegisterView.as_view(), name="register"),
    path("email-exists/", views.EmailExistsView.as_view(), name="email_exists"),
    path("confirm/", views.ConfirmView.as_view(), name="confirm"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("refresh/", views.RefreshView.as_view(), name="refresh"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("me/", views.MeView.as_view(), name="me"),
    path("forgot-password/", views.ForgotPasswordView.as_view(), name="forgot_password"),
    path("reset-password/", views.ResetPasswordView.as_view(), name="reset_password"),
]
