from django.urls import path

from users_app import views

app_name = "users"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("confirm/<str:uid>/<str:token>/", views.confirm, name="confirm"),
    path("login/", views.login_page, name="login"),
    path("logout/", views.logout_page, name="logout"),
    path("password/forgot/", views.forgot_password, name="forgot_password"),
    path("password/reset/<str:uid>/<str:token>/", views.reset_password, name="reset_password"),
    path("", views.account, name="account"),
    path("email/", views.email_change, name="email_change"),
    path(
        "email/confirm/<str:uid>/<str:email>/<str:token>/",
        views.email_change_confirm,
        name="email_change_confirm",
    ),
    path("password/", views.password_change, name="password_change"),
    path("delete/", views.account_delete, name="delete"),
]
